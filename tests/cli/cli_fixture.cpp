#include "cli_fixture.hpp"

#include <doctest/doctest.h>

#include "common/open_store.hpp"

namespace jobq::test {

namespace {

constexpr const char* test_worker = "cli-test-worker";

std::vector<Job> claim_jobs(Store& store, const std::string& queue, Timestamp now) {
    ClaimRequest request;
    request.queues = {{queue, 100}};
    request.worker_id = test_worker;
    request.now = now;
    request.lease_expires_at = now + std::chrono::minutes{5};
    return store.claim(request).jobs;
}

}  // namespace

std::string jobq_binary() {
    return JOBQ_CLI_PATH;
}

CliFixture::CliFixture() : CliFixture(std::string{}) {
    db_ = dir_.file();
    database_ = db_.string();
}

CliFixture::CliFixture(std::string database) : database_(std::move(database)) {}

ProcessResult CliFixture::jobq_raw(const std::vector<std::string>& args, ProcessOptions options) {
    options.work_dir = dir_.path();
    // The developer's own default database must never leak into a test.
    options.env.try_emplace("JOBQ_DATABASE_URL", std::nullopt);
    return run_process(jobq_binary(), args, options);
}

ProcessResult CliFixture::jobq(const std::vector<std::string>& args) {
    std::vector<std::string> full{"--db", database_};
    full.insert(full.end(), args.begin(), args.end());
    return jobq_raw(full);
}

nlohmann::json CliFixture::json(const std::vector<std::string>& args) {
    std::vector<std::string> full{"--json"};
    full.insert(full.end(), args.begin(), args.end());
    const ProcessResult r = jobq(full);
    INFO("jobq ", args.empty() ? "" : args.front(), " stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

void CliFixture::migrate() {
    const ProcessResult r = jobq({"migrate"});
    INFO("stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
}

JobId CliFixture::enqueue(const std::vector<std::string>& args) {
    std::vector<std::string> full{"enqueue"};
    full.insert(full.end(), args.begin(), args.end());
    return json(full).at("id").get<JobId>();
}

nlohmann::json CliFixture::show(JobId id) {
    return json({"show", std::to_string(id)});
}

std::size_t CliFixture::count_jobs() {
    const std::unique_ptr<Store> opened = tools::open_store(database_);
    Store& store = *opened;
    std::size_t n = 0;
    JobFilter filter;
    filter.limit = 1000;
    while (true) {
        const JobPage page = store.list(filter);
        n += page.jobs.size();
        if (!page.next_before_id) return n;
        filter.before_id = page.next_before_id;
    }
}

std::vector<JobId> CliFixture::claim(const std::string& queue) {
    const std::unique_ptr<Store> opened = tools::open_store(database_);
    Store& store = *opened;
    std::vector<JobId> ids;
    for (const Job& job : claim_jobs(store, queue, system_clock().now())) ids.push_back(job.id);
    return ids;
}

std::vector<JobId> CliFixture::finish_attempts(const std::string& queue, OutcomeKind kind,
                                               const std::string& message,
                                               const std::string& result) {
    const std::unique_ptr<Store> opened = tools::open_store(database_);
    Store& store = *opened;
    const Timestamp now = system_clock().now();
    std::vector<Outcome> outcomes;
    std::vector<JobId> ids;
    for (const Job& job : claim_jobs(store, queue, now)) {
        Outcome o;
        o.id = job.id;
        o.attempt = job.attempt;
        o.worker_id = test_worker;
        // As a worker does: a terminal outcome of a workflow's job then releases or cancels
        // what waits on it, in the same transaction.
        o.workflow_id = job.workflow_id;
        o.kind = kind;
        o.at = now;
        o.run_at = now + std::chrono::hours{1};
        if (kind == OutcomeKind::discard || kind == OutcomeKind::retry) {
            o.error = AttemptError{job.attempt, now,
                                   kind == OutcomeKind::discard ? "discard" : "exception", message};
        }
        o.result = result;
        outcomes.push_back(o);
        ids.push_back(job.id);
    }
    const std::vector<bool> applied = store.complete(outcomes);
    for (bool a : applied) REQUIRE(a);
    return ids;
}

bool is_one_line(const std::string& text) {
    return !text.empty() && text.find('\n') == text.size() - 1;
}

}  // namespace jobq::test
