#include "jobq/batch_spec.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "detail/name_check.hpp"
#include "jobq/error.hpp"
#include "jobq/json_input.hpp"
#include "jobq/workflow_spec.hpp"

namespace jobq {

namespace {

[[noreturn]] void refuse(std::string field, std::string message) {
    throw Error(ErrorCode::invalid_argument, field + ": " + message, field);
}

constexpr BatchCallback all_callbacks[] = {
    BatchCallback::all_completed, BatchCallback::any_discarded, BatchCallback::all_finished};

// Validates `spec`, the error's field and message prefixed with `at`.
void check_spec(const JobSpec& spec, const std::string& at, const InputLimits& limits) {
    try {
        spec.validate(limits);
    } catch (const Error& e) {
        throw Error(e.code(), fmt::format("{}: {}", at, e.what()),
                    e.field().empty() ? at : at + "." + e.field());
    }
}

JobSpec parse_spec(const nlohmann::json& j, const std::string& at, const InputLimits& limits) {
    try {
        return JobSpec::from_json(j, limits);
    } catch (const Error& e) {
        throw Error(e.code(), fmt::format("{}: {}", at, e.what()),
                    e.field().empty() ? at : at + "." + e.field());
    }
}

}  // namespace

std::string_view to_string(BatchCallback c) noexcept {
    switch (c) {
        case BatchCallback::all_completed:
            return "all_completed";
        case BatchCallback::any_discarded:
            return "any_discarded";
        case BatchCallback::all_finished:
            return "all_finished";
    }
    return "unknown";
}

std::optional<BatchCallback> parse_batch_callback(std::string_view name) noexcept {
    for (const BatchCallback c : all_callbacks) {
        if (to_string(c) == name) return c;
    }
    return std::nullopt;
}

BatchSpec::BatchSpec(std::string name) : name_(std::move(name)) {}

BatchSpec& BatchSpec::add(JobSpec job) {
    jobs_.push_back(std::move(job));
    return *this;
}

BatchSpec& BatchSpec::on(BatchCallback when, JobSpec callback) {
    const auto it = std::find_if(callbacks_.begin(), callbacks_.end(),
                                 [when](const auto& c) { return c.first == when; });
    if (it != callbacks_.end()) {
        it->second = std::move(callback);
    } else {
        callbacks_.emplace_back(when, std::move(callback));
    }
    return *this;
}

void BatchSpec::validate(const InputLimits& limits) const {
    limits.validate();
    if (auto why = detail::name_problem(name_)) refuse("name", *why);
    if (jobs_.size() > max_workflow_jobs) {
        refuse("jobs", fmt::format("at most {} jobs in one batch (got {})", max_workflow_jobs,
                                   jobs_.size()));
    }
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
        const std::string at = fmt::format("jobs[{}]", i);
        check_spec(jobs_[i], at, limits);
        if (!jobs_[i].unique_key().empty()) {
            refuse(at + ".unique_key", "a batch's jobs cannot have a unique key");
        }
    }
    for (const auto& [when, spec] : callbacks_) {
        const std::string at = fmt::format("callbacks.{}", to_string(when));
        check_spec(spec, at, limits);
        if (!spec.unique_key().empty()) {
            // A duplicate would make an unrelated job stand for the callback, which then never
            // runs.
            refuse(at + ".unique_key", "a batch's callbacks cannot have a unique key");
        }
        if (spec.payload().contains("batch")) {
            refuse(at + ".payload.batch",
                   "is where the callback receives the batch's summary; use another key");
        }
    }
}

nlohmann::json BatchSpec::to_json() const {
    nlohmann::json jobs = nlohmann::json::array();
    for (const JobSpec& spec : jobs_) jobs.push_back(spec.to_json());
    nlohmann::json callbacks = nlohmann::json::object();
    for (const auto& [when, spec] : callbacks_)
        callbacks[std::string(to_string(when))] = spec.to_json();
    return {{"name", name_}, {"jobs", std::move(jobs)}, {"callbacks", std::move(callbacks)}};
}

BatchSpec BatchSpec::from_json(const nlohmann::json& j, const InputLimits& limits) {
    if (!j.is_object())
        refuse("batch", fmt::format("must be a JSON object (got {})", j.type_name()));
    for (const auto& [key, value] : j.items()) {
        if (key != "name" && key != "jobs" && key != "callbacks") {
            refuse(printable(key.substr(0, 64)), "is not a field of a batch");
        }
    }
    const auto name = j.find("name");
    if (name == j.end()) refuse("name", "is missing");
    if (!name->is_string()) {
        refuse("name", fmt::format("must be a string (got {})", name->type_name()));
    }
    BatchSpec b{name->get<std::string>()};
    if (const auto jobs = j.find("jobs"); jobs != j.end()) {
        if (!jobs->is_array()) {
            refuse("jobs", fmt::format("must be an array (got {})", jobs->type_name()));
        }
        if (jobs->size() > max_workflow_jobs) {
            refuse("jobs", fmt::format("at most {} jobs in one batch (got {})", max_workflow_jobs,
                                       jobs->size()));
        }
        for (std::size_t i = 0; i < jobs->size(); ++i) {
            b.add(parse_spec((*jobs)[i], fmt::format("jobs[{}]", i), limits));
        }
    }
    if (const auto cbs = j.find("callbacks"); cbs != j.end()) {
        if (!cbs->is_object()) {
            refuse("callbacks", fmt::format("must be an object (got {})", cbs->type_name()));
        }
        for (const auto& [key, value] : cbs->items()) {
            const auto when = parse_batch_callback(key);
            const std::string at = "callbacks." + printable(key.substr(0, 64));
            if (!when) {
                refuse(at, "is not a callback: use all_completed, any_discarded or all_finished");
            }
            b.on(*when, parse_spec(value, at, limits));
        }
    }
    b.validate(limits);
    return b;
}

}  // namespace jobq
