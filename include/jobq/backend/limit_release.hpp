#pragma once
// For backend authors. How jobs that stop running give their limit slots back: which limit
// rows a job counts in, how many slots each row gets back from one transaction's jobs, and
// which queues to wake afterwards. One rule for every backend; the backend reads the jobs'
// queue, kind and tenant, writes the counts in its transaction and tells its notifier.
//
// The rule: a running job holds one slot in the row of its queue, of its kind and, when it has
// one, of its tenant (the rows that exist; a scope without a row has no count). When it stops
// running (completed, retried, snoozed, discarded, cancelled, rescued) each of those rows'
// `running` drops by one, never below zero. A queue is woken when a row one of its ended jobs
// counted in changed: a slot came free that a waiting claim there may take.

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobq/limit_scope.hpp"

namespace jobq {

/// The limit scopes a job of `queue`, `kind` and `tenant` ("" for none) counts in.
std::vector<LimitScope> held_scopes(std::string_view queue, std::string_view kind,
                                    std::string_view tenant);

/// The jobs of one transaction that stopped running, tallied per limit row.
class LimitRelease {
  public:
    /// One more job that stopped running.
    void add(std::string_view queue, std::string_view kind, std::string_view tenant);

    bool empty() const { return ended_.empty(); }

    /// Each scope the jobs counted in, once, in scope order, with how many slots it gets back.
    std::vector<std::pair<LimitScope, std::int64_t>> per_scope() const;

    /// The queues to wake, each once, in the order their jobs were added: those with a job
    /// that counted in one of `changed` (the rows whose count the backend lowered).
    std::vector<std::string> queues_to_wake(const std::set<LimitScope>& changed) const;

  private:
    struct Ended {
        std::string queue;
        std::string kind;
        std::string tenant;
    };
    std::vector<Ended> ended_;
};

}  // namespace jobq
