#pragma once
// For backend authors. Tenants taking turns: which tenants one claim of a queue fetches jobs
// from, and where the queue's rotation continues next time. One rule for every backend; the
// backend reports the tenants with work around the cursor and keeps the cursor it is told.
//
// The rule: a claim visits jobs without a tenant (when there are any) plus at most
// max_tenants_per_claim named tenants, in byte order starting after the cursor and wrapping
// round to the first name. When it cannot visit every named tenant with work, the cursor moves
// to the last one it visits, at once (before the claim commits): a claim running beside it, or
// the next one, starts further on, and a claim that fails costs those tenants one turn rather
// than giving them the next. When it visits them all, the cursor stays.

#include <string>
#include <vector>

#include "jobq/backend/claim_plan.hpp"

namespace jobq {

/// What a backend found about one queue's tenants with available jobs.
struct TenantFacts {
    /// Jobs without a tenant are available.
    bool plain = false;
    /// Named tenants with available jobs, in any order, repeats allowed. It must hold at least
    /// the first `max_named + 1` names after the cursor and the first `max_named + 1` names not
    /// after it (all of them where there are fewer); more names do no harm.
    std::vector<std::string> named;
};

/// One claim's visit of a queue's tenants.
struct TenantVisit {
    /// The tenants to fetch from: "" (jobs without a tenant) first when there are such jobs,
    /// then the named tenants in rotation order. Empty: nothing is available.
    std::vector<std::string> tenants;
    /// Named tenants beyond these have work: the queue should be claimed from again soon
    /// (ClaimResult::more).
    bool more = false;
    /// The queue's cursor from now on ("" before every name).
    std::string cursor;
};

/// Plans the visit from `facts` and the queue's `cursor` ("" for none yet).
TenantVisit plan_tenant_visit(const TenantFacts& facts, const std::string& cursor,
                              int max_named = max_tenants_per_claim);

}  // namespace jobq
