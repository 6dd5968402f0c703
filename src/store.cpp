// Store (jobq/backend/store.hpp): the defaults of its optional operations.

#include "jobq/backend/store.hpp"

#include "jobq/error.hpp"

namespace jobq {

CompletedAndClaimed Store::complete_and_claim(std::span<const Outcome>, const ClaimRequest&) {
    // Two calls would not be one transaction, which is what the operation promises.
    throw Error(ErrorCode::invalid_argument,
                "this store does not complete and claim in one transaction "
                "(completes_with_claims() is false)");
}

}  // namespace jobq
