#pragma once
// The claim under flow control (limit rows, tenants taking turns) of the SqliteStore: the
// steps of one queue's claim that gate_claim and plan_claim (jobq/backend/claim_plan.hpp) decide
// between, run inside the claim's BEGIN IMMEDIATE transaction, where every read is exact.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "jobq/backend/claim_plan.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/job.hpp"
#include "jobq/limit_record.hpp"

namespace jobq::sqlite_detail {

/// One claim request's flow-controlled queues. Limit rows are read on first use and kept in
/// step with what the claim writes, so a later queue of the same request sees the starts of
/// an earlier one (kind and tenant rows are shared between queues).
class FlowClaim {
  public:
    /// `any_limits`: whether the store holds a limit row (none: no row is ever read).
    FlowClaim(Connection& writer, bool any_limits, std::string_view worker_id, Timestamp now,
              Timestamp lease_expires_at);

    /// Claims from one queue, appending the started jobs to `jobs` in start order. `cursor` is
    /// the queue's tenant rotation cursor (jobq/backend/tenant_rotation.hpp); it moves on here.
    void claim_queue(const QueueDemand& demand, std::string& cursor, std::vector<Job>& jobs);

    /// Queues whose tenants this claim could not all visit.
    std::vector<std::string> more;
    /// The earliest time a bucket that held a job back has a token again.
    std::optional<Timestamp> throttled_until;

  private:
    // The tenants of `queue` this claim visits (plan_tenant_visit), moving `cursor` on.
    std::vector<std::string> tenants_of(const std::string& queue, std::string& cursor);
    std::optional<std::string> tenant_after(const std::string& queue, const std::string& above);
    // The rows that apply to a claim of `queue` from `tenants`.
    std::vector<LimitRecord> rows_for(const std::string& queue,
                                      const std::vector<std::string>& tenants);
    std::optional<LimitRecord>& row(ScopeType type, const std::string& name);
    void fetch_candidates(const std::string& queue, const std::string& tenant, int limit,
                          const std::string& skip_kinds, std::vector<ClaimCandidate>& out);
    void apply(const std::vector<ScopeUpdate>& updates);
    void note_throttle(const std::optional<Timestamp>& until);

    Connection& w_;
    bool any_limits_;
    std::string_view worker_id_;
    Timestamp now_;
    Timestamp lease_;
    bool kinds_loaded_ = false;
    std::map<std::string, std::optional<LimitRecord>> queue_rows_;
    std::map<std::string, std::optional<LimitRecord>> kind_rows_;
    std::map<std::string, std::optional<LimitRecord>> tenant_rows_;
};

}  // namespace jobq::sqlite_detail
