// Round trip through an installed jobq: open a SQLite store, migrate, enqueue, read back (also
// through an async operation with a completion token, whose template lives in the installed
// header). Exits 0 only when the job read back is the job enqueued (and, built with the
// postgres component, a PostgresStore was constructed; postgres.cpp).

#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include <unistd.h>

#include <boost/asio/use_future.hpp>
#include <jobq/job_spec.hpp>
#include <jobq/queue.hpp>
#include <jobq/sqlite/sqlite_store.hpp>

namespace fs = std::filesystem;

#ifdef JOBQ_CONSUMER_WITH_POSTGRES
std::string consumer_postgres_schema();  // postgres.cpp
std::string consumer_kinds();            // kinds.cpp
#endif

int main(int argc, char** argv) {
    // The test passes a directory of its own; run by hand it falls back to the temp directory.
    const fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path();
    const fs::path db = dir / ("jobq-consumer-" + std::to_string(::getpid()) + ".db");
    int status = 1;
    try {
        jobq::SqliteStore store{db.string()};
        const int version = store.migrate();
        jobq::Queue queue{store};
        const nlohmann::json payload{{"to", "a@example.com"}, {"n", 42}};
        const auto inserted = queue.enqueue(
            jobq::JobSpec{"email.send", payload}.queue("mail").priority(3).max_attempts(8));
        const auto job = queue.get(inserted.id);
        const auto async_job = queue.async_get(inserted.id, boost::asio::use_future).get();
        if (!job) {
            std::fprintf(stderr, "job %lld was enqueued but cannot be read back\n",
                         static_cast<long long>(inserted.id));
        } else if (!async_job || async_job->id != job->id) {
            std::fprintf(stderr, "async_get did not read back job %lld\n",
                         static_cast<long long>(job->id));
        } else if (job->kind != "email.send" || job->queue != "mail" || job->payload != payload ||
                   job->priority != 3 || job->max_attempts != 8 ||
                   job->state != jobq::JobState::available) {
            std::fprintf(stderr, "job read back differs from the job enqueued: %s\n",
                         to_json(*job).dump().c_str());
        } else {
            std::printf("jobq consumer: schema %d, job %lld round-tripped\n", version,
                        static_cast<long long>(job->id));
            status = 0;
        }
#ifdef JOBQ_CONSUMER_WITH_POSTGRES
        if (status == 0) {
            const std::string schema = consumer_postgres_schema();
            if (schema != "jobq_consumer") {
                std::fprintf(stderr, "PostgresStore reports schema '%s', not jobq_consumer\n",
                             schema.c_str());
                status = 1;
            } else {
                std::printf("jobq consumer: PostgresStore constructed (schema %s)\n",
                            schema.c_str());
            }
        }
#endif
#ifdef JOBQ_CONSUMER_WITH_KINDS
        if (status == 0) {
            const std::string kinds = consumer_kinds();
            if (kinds.rfind("jobq.http v1,", 0) != 0) {
                std::fprintf(stderr, "jobq::kinds answered '%s'\n", kinds.c_str());
                status = 1;
            } else {
                std::printf("jobq consumer: jobq.http registered and a webhook signed\n");
            }
        }
#endif
    } catch (const std::exception& e) {
        std::fprintf(stderr, "jobq consumer failed: %s\n", e.what());
    }
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix, ignored);
    return status;
}
