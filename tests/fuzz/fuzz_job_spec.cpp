// Fuzzes the way a job arrives from outside as JSON: parse_json_input, JobSpec::from_json,
// to_new_job, and the retry policy a worker later computes delays with. The input is
// "JOB[\0PAYLOAD]": the text before the first NUL is a job document, the text after it (or the
// whole input, without a NUL) a payload object for a JobSpec built in C++. Only jobq::Error may
// come out, and the pieces must agree with each other:
//   - check_json_input accepts what parse_json_input returned, and both draw the depth limit at
//     the same level;
//   - a spec from from_json survives to_json -> from_json unchanged.

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "jobq/backend/new_job.hpp"
#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/json_input.hpp"

namespace {

using namespace std::chrono;

// A fixed "now", so a run is reproducible.
const jobq::Timestamp now{sys_days{2026y / November / 23} + 10h + 56min + 48s};

// A small depth limit, so the fuzzer reaches it often.
constexpr int shallow = 3;

[[noreturn]] void fail(const char* property, std::string_view input, std::string_view detail) {
    std::fprintf(stderr, "fuzz_job_spec: %s\n  input: \"%.*s\"\n  detail: %.*s\n", property,
                 static_cast<int>(input.size()), input.data(), static_cast<int>(detail.size()),
                 detail.data());
    __builtin_trap();
}

bool refused(const nlohmann::json& value, int max_depth) {
    try {
        jobq::check_json_input(value, "payload", max_depth);
        return false;
    } catch (const jobq::Error&) {
        return true;
    }
}

// Parses `text` as parse_json_input does and checks the result with check_json_input.
// Returns a discarded value when the text is refused.
nlohmann::json parse_and_check(std::string_view text, std::string_view field) {
    nlohmann::json value;
    try {
        value = jobq::parse_json_input(text, field);
    } catch (const jobq::Error&) {
        return nlohmann::json(nlohmann::json::value_t::discarded);
    }
    if (refused(value, jobq::InputLimits{}.max_json_depth)) {
        fail("check_json_input refuses what parse_json_input returned", text, value.dump());
    }
    bool shallow_parse_refused = false;
    try {
        (void)jobq::parse_json_input(text, field, shallow);
    } catch (const jobq::Error&) {
        shallow_parse_refused = true;
    }
    if (shallow_parse_refused != refused(value, shallow)) {
        fail("parse_json_input and check_json_input disagree on the depth limit", text,
             value.dump());
    }
    return value;
}

// What a worker does with a failed job's policy: ask for the delay of some attempts.
void use_retry_policy(const jobq::JobSpec& spec) {
    if (!spec.retry_policy()) return;
    for (const int attempt : {1, 2, 20, 64, INT_MAX}) {
        for (const double random01 : {0.0, 0.5, 1.0}) {
            if (spec.retry_policy()->delay(attempt, random01) < jobq::Duration::zero()) {
                fail("a retry delay is negative", spec.to_json().dump(), std::to_string(attempt));
            }
        }
    }
}

void job_document(std::string_view text) {
    const nlohmann::json j = parse_and_check(text, "job");
    if (j.is_discarded()) return;
    try {
        const jobq::JobSpec spec = jobq::JobSpec::from_json(j);
        const nlohmann::json stored = spec.to_json();
        const nlohmann::json again = jobq::JobSpec::from_json(stored).to_json();
        if (again != stored) fail("to_json -> from_json changed the spec", text, again.dump());
        (void)jobq::to_new_job(spec, now);
        use_retry_policy(spec);
    } catch (const jobq::Error&) {
    }
}

void payload_document(std::string_view text) {
    const nlohmann::json payload = parse_and_check(text, "payload");
    if (payload.is_discarded()) return;
    try {
        (void)jobq::to_new_job(jobq::JobSpec{"fuzz.job", payload}, now);
    } catch (const jobq::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = input.find('\0');
    job_document(input.substr(0, nul));
    payload_document(nul == std::string_view::npos ? input : input.substr(nul + 1));
    return 0;
}
