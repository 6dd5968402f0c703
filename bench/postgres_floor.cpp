// jobq-postgres-floor: the leanest queue in raw SQL on PostgreSQL, the floor PERF.md compares
// jobq-bench's PostgreSQL figures against; the twin of jobq-sqlite-floor. Absolute figures move
// from machine to machine (round trips, WAL flushes); measuring the floor on the server the bench
// runs against turns jobq-bench's figures into ratios that do not.
//
//   jobq-postgres-floor --url URL [--jobs N] [--batch B] [--connections K]
//                       [--durability on|off] [--schema NAME]
//
// Fills one table with N available jobs, then K threads, each on its own connection, claim B jobs
// in one statement and complete those B in one statement until all N are completed. Only that
// phase is timed. Prints one JSON line.

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace {

using Clock = std::chrono::steady_clock;

struct Setup {
    std::string url;
    std::string schema = "jobq_floor";
    std::string durability = "on";  // synchronous_commit; "on" is the server default
    std::int64_t jobs = 20000;
    int batch = 100;
    int connections = 1;
};

// The schema is recreated from scratch: no other table, no trigger, no other index than the
// primary key and the partial index a claim walks, and the server's default autovacuum.
void fresh(const Setup& s) {
    pqxx::connection conn{s.url};
    pqxx::nontransaction tx{conn};
    const std::string schema = conn.quote_name(s.schema);
    tx.exec(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", schema));
    tx.exec(fmt::format("CREATE SCHEMA {}", schema));
    tx.exec(
        fmt::format("CREATE TABLE {}.jobs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                    " queue text NOT NULL, priority integer NOT NULL, run_at bigint NOT NULL,"
                    " state text NOT NULL, attempt integer NOT NULL DEFAULT 0, worker text,"
                    " payload jsonb NOT NULL)",
                    schema));
    // Only claimable rows are in it, in claim order: a claim reads just the rows it takes.
    tx.exec(
        fmt::format("CREATE INDEX jobs_claimable ON {}.jobs (queue, priority, run_at, id)"
                    " WHERE state = 'available'",
                    schema));
    tx.exec(
        fmt::format("INSERT INTO {}.jobs (queue, priority, run_at, state, payload)"
                    " SELECT 'default', 0, g, 'available', '{{}}' FROM generate_series(1, {}) AS g",
                    schema, s.jobs));
    // Fresh statistics and a visibility map, so the timed phase starts from a settled table.
    tx.exec(fmt::format("VACUUM ANALYZE {}.jobs", schema));
}

void drop(const Setup& s) {
    pqxx::connection conn{s.url};
    pqxx::nontransaction tx{conn};
    tx.exec(fmt::format("DROP SCHEMA {} CASCADE", conn.quote_name(s.schema)));
}

// One claiming thread's connection, opened and prepared before the clock starts.
class Claimer {
  public:
    Claimer(const Setup& s, int index) : conn_{s.url}, worker_{fmt::format("w{}", index)} {
        const std::string table = conn_.quote_name(s.schema) + ".jobs";
        {
            pqxx::nontransaction tx{conn_};
            tx.exec(fmt::format("SET synchronous_commit = {}", s.durability));
        }
        // $1 batch, $2 worker. ARRAY(...) makes the locking subquery an InitPlan, so the update
        // finds its rows by primary key whatever the table size and whether the plan is generic
        // or custom. The plain `id IN (SELECT ...)` is planned, at 20k rows, as a hash semi-join
        // over a sequential scan of the whole table: every claim reads all N rows (about 1.5x
        // slower here). SKIP LOCKED lets concurrent claimers pass each other instead of queueing
        // on row locks.
        conn_.prepare("claim",
                      fmt::format("UPDATE {0} SET state = 'running', attempt = attempt + 1,"
                                  " worker = $2 WHERE id = ANY(ARRAY(SELECT id FROM {0}"
                                  " WHERE state = 'available' AND queue = 'default'"
                                  " ORDER BY priority, run_at, id LIMIT $1"
                                  " FOR UPDATE SKIP LOCKED)) RETURNING id",
                                  table));
        // $1 the claimed ids as one array literal, $2 worker: one statement for the whole batch.
        conn_.prepare("complete", fmt::format("UPDATE {} SET state = 'completed'"
                                              " WHERE id = ANY($1::bigint[])"
                                              " AND state = 'running' AND worker = $2",
                                              table));
        conn_.prepare_now("claim");
        conn_.prepare_now("complete");
    }

    // Claims and completes batches until a claim comes back empty; returns how many it completed.
    // Each statement runs outside a transaction block, so it is its own transaction: one round
    // trip and one commit each, with no BEGIN or COMMIT of their own.
    std::int64_t run(int batch) {
        pqxx::nontransaction tx{conn_};
        std::string ids;
        std::int64_t done = 0;
        for (;;) {
            const pqxx::result claimed = tx.exec_prepared("claim", batch, worker_);
            if (claimed.empty()) return done;
            // The ids come back as decimal text: copy them straight into '{1,2,3}'.
            ids.assign("{");
            for (const auto& row : claimed) {
                ids.append(row[0].c_str());
                ids.push_back(',');
            }
            ids.back() = '}';
            const pqxx::result completed = tx.exec_prepared("complete", ids, worker_);
            if (completed.affected_rows() != claimed.size()) {
                throw std::runtime_error(fmt::format("{}: completed {} of the {} jobs it claimed",
                                                     worker_, completed.affected_rows(),
                                                     claimed.size()));
            }
            done += static_cast<std::int64_t>(claimed.size());
        }
    }

  private:
    pqxx::connection conn_;
    std::string worker_;
};

// Every job completed exactly once: N completed rows, each claimed once.
void check(const Setup& s, std::int64_t done) {
    pqxx::connection conn{s.url};
    pqxx::nontransaction tx{conn};
    const pqxx::row r = tx.exec1(fmt::format(
        "SELECT count(*) FILTER (WHERE state = 'completed' AND attempt = 1), count(*) FROM {}.jobs",
        conn.quote_name(s.schema)));
    const auto completed = r[0].as<std::int64_t>();
    const auto total = r[1].as<std::int64_t>();
    if (done != s.jobs || completed != s.jobs || total != s.jobs) {
        throw std::runtime_error(fmt::format(
            "expected {} jobs completed once; the threads reported {}, the table holds {} of {}",
            s.jobs, done, completed, total));
    }
}

nlohmann::json claim_complete(const Setup& s) {
    fresh(s);
    std::vector<std::unique_ptr<Claimer>> claimers;
    for (int i = 0; i < s.connections; ++i) claimers.push_back(std::make_unique<Claimer>(s, i));

    std::vector<std::int64_t> done(claimers.size(), 0);
    std::exception_ptr error;
    std::mutex error_mutex;
    std::vector<std::thread> threads;
    const auto t = Clock::now();
    for (std::size_t i = 0; i < claimers.size(); ++i) {
        threads.emplace_back([&, i] {
            try {
                done[i] = claimers[i]->run(s.batch);
            } catch (...) {
                const std::lock_guard lock{error_mutex};
                if (!error) error = std::current_exception();
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - t).count();
    if (error) std::rethrow_exception(error);

    std::int64_t total = 0;
    for (const std::int64_t n : done) total += n;
    check(s, total);
    claimers.clear();
    drop(s);
    return {{"floor", "claim_complete"},
            {"backend", "postgres"},
            {"durability", s.durability},
            {"batch", s.batch},
            {"connections", s.connections},
            {"jobs", total},
            {"seconds", std::round(seconds * 1e4) / 1e4},
            {"jobs_per_sec", std::round(static_cast<double>(total) / seconds)}};
}

// A whole positive decimal number, or false.
template <typename Int>
bool parse_positive(std::string_view text, Int& out) {
    Int value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value <= 0) return false;
    out = value;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    constexpr std::string_view usage =
        "usage: jobq-postgres-floor --url URL [--jobs N] [--batch B] [--connections K]\n"
        "                           [--durability on|off] [--schema NAME]\n";
    Setup setup;
    bool ok = argc % 2 == 1;  // the program name, then flag/value pairs
    for (int i = 1; ok && i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        const std::string_view value = argv[i + 1];
        if (flag == "--url") {
            setup.url = value;
        } else if (flag == "--schema" && !value.empty()) {
            setup.schema = value;
        } else if (flag == "--durability" && (value == "on" || value == "off")) {
            setup.durability = value;
        } else if (flag == "--jobs") {
            ok = parse_positive(value, setup.jobs);
        } else if (flag == "--batch") {
            ok = parse_positive(value, setup.batch);
        } else if (flag == "--connections") {
            ok = parse_positive(value, setup.connections);
        } else {
            ok = false;
        }
    }
    if (!ok || setup.url.empty()) {
        fmt::print(stderr, "{}", usage);
        return 2;
    }
    try {
        fmt::print("{}\n", claim_complete(setup).dump());
        return 0;
    } catch (const std::exception& e) {
        fmt::print(stderr, "jobq-postgres-floor: {}\n", e.what());
        return 1;
    }
}
