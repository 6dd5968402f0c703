// The API boundary on a real store: hostile input is refused before the store sees it, with
// the same error on every backend and nothing written, and text at the edges of what is valid
// comes back byte for byte.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "conformance_support.hpp"
#include "jobq/error.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/queue.hpp"

namespace jobq::conformance {
namespace {

using nlohmann::json;

json nested_objects(int levels) {
    json root = json::object();
    json* leaf = &root;
    for (int i = 1; i < levels; ++i) leaf = &((*leaf)["d"] = json::object());
    return root;
}

struct Hostile {
    const char* what;
    std::function<JobSpec()> spec;
    const char* field;
    const char* says;
};

TEST_CASE_FIXTURE(StoreTest, "hostile input is refused the same way on every backend and writes nothing") {
    ManualClock clock{t0};
    Queue queue{store, QueueOptions{.clock = &clock}};
    const std::vector<Hostile> cases{
        {"NUL in a payload string", [] { return JobSpec{"k", {{"s", std::string("a\0b", 3)}}}; },
         "payload", "payload: the string at /s contains a NUL character"},
        {"NUL in a payload key", [] { return JobSpec{"k", {{std::string("\0", 1), 1}}}; },
         "payload", "the key at /\\u0000 contains a NUL"},
        {"a payload 129 levels deep", [] { return JobSpec{"k", nested_objects(129)}; }, "payload",
         "nests deeper than 128 levels"},
        {"a payload over 1 MiB",
         [] { return JobSpec{"k", {{"b", std::string(1 << 20, 'x')}}}; }, "payload",
         "1048584 bytes is larger than the limit of 1048576 bytes"},
        {"a NaN in the payload", [] { return JobSpec{"k", {{"n", std::nan("")}}}; }, "payload",
         "the number at /n"},
        {"broken UTF-8 in a payload string", [] { return JobSpec{"k", {{"s", "\xc3("}}}; },
         "payload", "not valid UTF-8"},
        {"broken UTF-8 in the kind", [] { return JobSpec{"k\xff"}; }, "kind", "UTF-8"},
        {"an escape sequence in a tag", [] { return JobSpec{"k"}.tag("\x1b[2J"); }, "tags",
         "U+001B"},
        {"a control character in the unique key", [] { return JobSpec{"k"}.unique_key("a\rb"); },
         "unique_key", "U+000D"},
        {"a delay of 10^8 days",
         [] { return JobSpec{"k"}.delay(std::chrono::days{100'000'000}); }, "delay",
         "at most 36525d"},
        {"a run_at at the end of time", [] { return JobSpec{"k"}.run_at(Timestamp::max()); },
         "run_at", "9999-12-31"},
    };
    for (const Hostile& h : cases) {
        CAPTURE(h.what);
        try {
            queue.enqueue(h.spec());
            FAIL("accepted: ", h.what);
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::invalid_argument);
            CHECK(e.field() == h.field);
            CAPTURE(e.what());
            CHECK(std::string_view(e.what()).find(h.says) != std::string_view::npos);
        }
    }
    CHECK(store.list(JobFilter{}).jobs.empty());
}

TEST_CASE_FIXTURE(StoreTest, "text and numbers at the edges of what is valid come back byte for byte") {
    ManualClock clock{t0};
    Queue queue{store, QueueOptions{.clock = &clock}};
    std::string controls;
    for (char c = 1; c < 0x20; ++c) controls += c;
    const json payload{
        {"controls", controls + "\x7f\xc2\x85"},  // every C0 but NUL, DEL and a C1
        {"astral", "\xf0\x9f\x98\x80 \xf0\x90\x8d\x88"},
        {"cl\xc3\xa9", "key outside ASCII"},
        {"uint64_max", std::numeric_limits<std::uint64_t>::max()},
        {"int64_min", std::numeric_limits<std::int64_t>::min()},
        {"double_max", std::numeric_limits<double>::max()},
        {"deep", nested_objects(127)},  // 128 levels with the payload itself
    };
    const JobSpec spec = JobSpec{"k\xc3\xa9", payload}
                             .queue("fila-\xc3\xa7")
                             .tag("\xe6\xa8\x99\xe7\xb1\xa4")
                             .tenant("m\xc3\xbcller")
                             .unique_key("key with spaces \xe2\x82\xac");
    const JobId id = queue.enqueue(spec).id;
    const std::optional<Job> job = store.get(id);
    REQUIRE(job);
    CHECK(job->payload == payload);
    CHECK(job->payload.dump() == payload.dump());
    CHECK(job->kind == "k\xc3\xa9");
    CHECK(job->queue == "fila-\xc3\xa7");
    CHECK(job->tags == std::vector<std::string>{"\xe6\xa8\x99\xe7\xb1\xa4"});
    CHECK(job->tenant == "m\xc3\xbcller");
    CHECK(job->unique_key == "t:m\xc3\xbcller:key with spaces \xe2\x82\xac");
}

TEST_CASE_FIXTURE(StoreTest, "a payload of exactly the limit is stored whole") {
    ManualClock clock{t0};
    Queue queue{store, QueueOptions{.clock = &clock}};
    const json payload{{"b", std::string((1 << 20) - 8, 'x')}};
    const JobId id = queue.enqueue(JobSpec{"k", payload}).id;
    const std::optional<Job> job = store.get(id);
    REQUIRE(job);
    CHECK(job->payload.dump().size() == std::size_t{1} << 20);
    CHECK(job->payload == payload);
}

}  // namespace
}  // namespace jobq::conformance
