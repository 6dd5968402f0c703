// One side of the workflow release race (workflow_race_tests.cpp): a separate process that
// ends a workflow job at the instant the test says, so two processes end the last two
// dependencies of a job at once.
//   workflow_race_peer setup DB ROUNDS        insert ROUNDS workflows a-r, b-r -> c-r
//   workflow_race_peer finish DB ROUNDS SIDE  per round: claim SIDE-r, print "claimed r", read
//                                             one byte from fd 3, complete it, print "done r"
//   workflow_race_peer check DB ROUNDS        each c-r available and claimable exactly once
// DB is what demo_worker's --db takes (tools/common/open_store.hpp): a SQLite path, or a
// postgresql:// URL with ?schema=.

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "common/open_store.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/backend/workflow_plan.hpp"
#include "jobq/workflow_spec.hpp"

namespace {

std::string queue(char side, int round) {
    return std::string(1, side) + "-" + std::to_string(round);
}

jobq::ClaimRequest request(const std::string& q, const std::string& worker) {
    jobq::ClaimRequest r;
    r.queues = {{q, 10}};
    r.worker_id = worker;
    r.now = jobq::system_clock().now();
    r.lease_expires_at = r.now + std::chrono::minutes{5};
    return r;
}

int setup(jobq::Store& store, int rounds) {
    for (int r = 0; r < rounds; ++r) {
        const jobq::WorkflowSpec spec =
            jobq::WorkflowSpec{"race"}
                .add("a", jobq::JobSpec{"race.a"}.queue(queue('a', r)))
                .add("b", jobq::JobSpec{"race.b"}.queue(queue('b', r)))
                .add("c", jobq::JobSpec{"race.c"}.queue(queue('c', r)), {"a", "b"});
        store.insert_workflow(jobq::to_new_workflow(spec, jobq::system_clock().now()));
    }
    std::printf("ok\n");
    return 0;
}

int finish(jobq::Store& store, int rounds, char side) {
    const std::string worker = std::string("peer-") + side;
    for (int r = 0; r < rounds; ++r) {
        const jobq::ClaimResult claimed = store.claim(request(queue(side, r), worker));
        if (claimed.jobs.size() != 1) {
            std::printf("round %d: claimed %zu jobs\n", r, claimed.jobs.size());
            return 1;
        }
        std::printf("claimed %d\n", r);
        std::fflush(stdout);
        char go = 0;
        if (::read(3, &go, 1) != 1) return 1;
        const jobq::Job& job = claimed.jobs.front();
        jobq::Outcome o;
        o.id = job.id;
        o.attempt = job.attempt;
        o.worker_id = worker;
        o.workflow_id = job.workflow_id;
        o.kind = jobq::OutcomeKind::complete;
        o.at = jobq::system_clock().now();
        if (store.complete(std::span<const jobq::Outcome>(&o, 1)) != std::vector<bool>{true}) {
            std::printf("round %d: completion refused\n", r);
            return 1;
        }
        std::printf("done %d\n", r);
        std::fflush(stdout);
    }
    return 0;
}

int check(jobq::Store& store, int rounds) {
    int bad = 0;
    for (int r = 0; r < rounds; ++r) {
        const jobq::ClaimResult first = store.claim(request(queue('c', r), "checker"));
        const jobq::ClaimResult second = store.claim(request(queue('c', r), "checker"));
        if (first.jobs.size() != 1 || !second.jobs.empty() ||
            first.jobs.front().upstream.size() != 2) {
            std::printf("round %d: c claimed %zu then %zu times\n", r, first.jobs.size(),
                        second.jobs.size());
            ++bad;
        }
    }
    std::printf(bad == 0 ? "ok\n" : "failed %d\n", bad);
    return bad == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc < 4) throw std::runtime_error("usage: see the comment at the top");
        const std::string_view command = argv[1];
        const std::unique_ptr<jobq::Store> store = jobq::tools::open_store(argv[2]);
        const int rounds = std::stoi(argv[3]);
        if (command == "setup") {
            store->migrate();
            return setup(*store, rounds);
        }
        if (command == "finish" && argc == 5) return finish(*store, rounds, argv[4][0]);
        if (command == "check") return check(*store, rounds);
        throw std::runtime_error("unknown command");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "workflow_race_peer: %s\n", e.what());
        return 2;
    }
}
