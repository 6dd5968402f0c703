#pragma once
// Limit rows and worker records as the flow statements return them (limit_columns and
// worker_columns in statements.hpp), and the scope names stored in the limits table.

#include <string>
#include <string_view>

#include <pqxx/row>

#include "jobq/limit_record.hpp"
#include "jobq/limit_scope.hpp"
#include "jobq/worker_record.hpp"

namespace jobq::postgres_detail {

/// The scope column's value for `type`: "queue", "kind" or "tenant".
std::string_view scope_text(ScopeType type) noexcept;

/// A limit row with its version (xmin as text): any write to the row changes it.
struct VersionedLimit {
    LimitRecord record;
    std::string version;
};

/// The row's limit_columns from column `first` on. Error(storage) for an unknown scope.
LimitRecord read_limit(const pqxx::row& row, int first = 0);

/// The row's worker_columns from column 0 on.
WorkerRecord read_worker(const pqxx::row& row);

/// Whether a row with these limits limits anything (a paused queue's row may not).
bool limits_anything(const FlowLimits& limits) noexcept;

}  // namespace jobq::postgres_detail
