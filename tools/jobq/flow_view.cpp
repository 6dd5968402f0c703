#include "flow_view.hpp"

#include <fmt/format.h>

#include "jobq/backend/token_bucket_refill.hpp"
#include "jobq/time_format.hpp"
#include "output.hpp"

namespace jobq::cli {

namespace {

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::string or_dash(const std::optional<int>& value) {
    return value ? std::to_string(*value) : "-";
}

}  // namespace

std::string rate_text(const RateLimit& rate) {
    if (rate.burst == 0) return rate.to_string();
    return fmt::format("{} burst {}", rate.to_string(), rate.burst);
}

std::string limits_summary(const LimitScope& scope, const FlowLimits& limits) {
    std::vector<std::string> parts;
    if (limits.max_running) parts.push_back(fmt::format("max running {}", *limits.max_running));
    if (limits.rate) parts.push_back(fmt::format("rate {}", rate_text(*limits.rate)));
    if (limits.max_queued) parts.push_back(fmt::format("max queued {}", *limits.max_queued));
    // A tenant's weight of 1 is what every tenant has; it is worth a mention only when set.
    if (scope.type == ScopeType::tenant && limits.weight != 1) {
        parts.push_back(fmt::format("weight {}", limits.weight));
    }
    return parts.empty() ? "no limits" : fmt::format("{}", fmt::join(parts, ", "));
}

nlohmann::json limit_to_json(const LimitRecord& record, Timestamp now) {
    const FlowLimits& l = record.limits;
    const bool tenant = record.scope.type == ScopeType::tenant;
    nlohmann::json j = nlohmann::json::object();
    j["scope"] = record.scope.to_string();
    j["type"] = to_string(record.scope.type);
    j["name"] = record.scope.name;
    j["paused"] = record.paused;
    j["max_running"] = or_null(l.max_running);
    j["rate"] = l.rate ? nlohmann::json(l.rate->to_string()) : nullptr;
    j["burst"] = l.rate && l.rate->burst > 0 ? nlohmann::json(l.rate->burst) : nullptr;
    j["max_queued"] = or_null(l.max_queued);
    j["weight"] = tenant ? nlohmann::json(l.weight) : nullptr;
    j["running"] = record.running;
    // The stored bucket is as of the last claim; what an operator wants is what it holds now.
    j["tokens"] = l.rate ? nlohmann::json(refill(record.bucket, *l.rate, now).tokens) : nullptr;
    j["updated_at"] = format_timestamp(record.updated_at);
    return j;
}

void print_limit_table(std::ostream& out, std::span<const LimitRecord> records) {
    if (records.empty()) {
        out << "no limits\n";
        return;
    }
    Table table({{"SCOPE"},
                 {"PAUSED"},
                 {"MAX RUNNING", Align::right},
                 {"RUNNING", Align::right},
                 {"RATE"},
                 {"MAX QUEUED", Align::right},
                 {"WEIGHT", Align::right}});
    for (const LimitRecord& r : records) {
        const FlowLimits& l = r.limits;
        const bool queue = r.scope.type == ScopeType::queue;
        const bool tenant = r.scope.type == ScopeType::tenant;
        table.add_row({r.scope.to_string(), queue ? (r.paused ? "yes" : "no") : "-",
                       or_dash(l.max_running), std::to_string(r.running),
                       l.rate ? rate_text(*l.rate) : "-",
                       l.max_queued ? std::to_string(*l.max_queued) : "-",
                       tenant ? std::to_string(l.weight) : "-"});
    }
    table.print(out);
}

nlohmann::json queue_to_json(const QueueInfo& queue, Timestamp now) {
    nlohmann::json counts = nlohmann::json::object();
    for (JobState s : all_job_states) counts[std::string(to_string(s))] = queue.stats.count(s);
    nlohmann::json j = nlohmann::json::object();
    j["queue"] = queue.name;
    j["paused"] = queue.paused;
    j["limits"] = queue.limits ? limit_to_json(*queue.limits, now) : nullptr;
    j["counts"] = std::move(counts);
    j["workers"] = queue.workers.size();
    j["worker_ids"] = queue.workers;
    return j;
}

void print_queue_table(std::ostream& out, std::span<const QueueInfo> queues) {
    if (queues.empty()) {
        out << "no queues\n";
        return;
    }
    Table table({{"QUEUE"},
                 {"STATE"},
                 {"MAX RUNNING", Align::right},
                 {"RATE"},
                 {"RUNNING", Align::right},
                 {"AVAILABLE", Align::right},
                 {"SCHEDULED", Align::right},
                 {"RETRYABLE", Align::right},
                 {"WORKERS", Align::right}});
    for (const QueueInfo& q : queues) {
        const FlowLimits* l = q.limits ? &q.limits->limits : nullptr;
        table.add_row({q.name, q.paused ? "paused" : "active", l ? or_dash(l->max_running) : "-",
                       l && l->rate ? rate_text(*l->rate) : "-",
                       std::to_string(q.stats.count(JobState::running)),
                       std::to_string(q.stats.count(JobState::available)),
                       std::to_string(q.stats.count(JobState::scheduled)),
                       std::to_string(q.stats.count(JobState::retryable)),
                       std::to_string(q.workers.size())});
    }
    table.print(out);
}

}  // namespace jobq::cli
