#include "limit_row.hpp"

#include <fmt/format.h>
#include <pqxx/array>
#include <pqxx/field>

#include "job_insert.hpp"
#include "job_row.hpp"
#include "jobq/error.hpp"

namespace jobq::postgres_detail {

namespace {

ScopeType parse_scope(std::string_view text) {
    if (text == "queue") return ScopeType::queue;
    if (text == "kind") return ScopeType::kind;
    if (text == "tenant") return ScopeType::tenant;
    throw Error(ErrorCode::storage, fmt::format("limits.scope: '{}' is not a scope", text));
}

}  // namespace

std::string_view scope_text(ScopeType type) noexcept {
    return to_string(type);
}

LimitRecord read_limit(const pqxx::row& row, int first) {
    const RowView v(row);
    const int f = first;
    LimitRecord r;
    r.scope.type = parse_scope(v.text(f));
    r.scope.name = v.text(f + 1);
    if (!v.is_null(f + 2)) r.limits.max_running = v.int32(f + 2);
    if (!v.is_null(f + 3)) {
        RateLimit rate;
        rate.limit = v.int32(f + 3);
        rate.period = Duration{v.int64(f + 4)};
        rate.burst = v.is_null(f + 5) ? 0 : v.int32(f + 5);
        r.limits.rate = rate;
    }
    if (!v.is_null(f + 6)) r.limits.max_queued = v.int64(f + 6);
    r.limits.weight = v.int32(f + 7);
    r.paused = v.text(f + 8) == "t";
    r.running = v.int64(f + 9);
    r.bucket.tokens = row[f + 10].as<double>();
    r.bucket.at = from_micros(v.int64(f + 11));
    r.updated_at = from_micros(v.int64(f + 12));
    return r;
}

WorkerRecord read_worker(const pqxx::row& row) {
    const RowView v(row);
    WorkerRecord w;
    w.id = v.text(0);
    pqxx::array_parser queues = row[1].as_array();
    for (auto [juncture, value] = queues.get_next(); juncture != pqxx::array_parser::done;
         std::tie(juncture, value) = queues.get_next()) {
        if (juncture == pqxx::array_parser::string_value) w.queues.push_back(std::move(value));
    }
    w.started_at = from_micros(v.int64(2));
    w.seen_at = from_micros(v.int64(3));
    w.expires_at = from_micros(v.int64(4));
    return w;
}

bool limits_anything(const FlowLimits& limits) noexcept {
    return limits.max_running || limits.rate || limits.max_queued || limits.weight != 1;
}

}  // namespace jobq::postgres_detail
