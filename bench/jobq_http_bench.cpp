// jobq-http-bench: N jobq.http callbacks against a local HTTP server, C in flight at a time,
// reported as requests/s and the threads the process used. One JSON line per run on stdout.
//
//   jobq-http-bench [--workload queue|floor] [--jobs N] [--concurrency C] [--delay-ms D]
//                   [--db PATH_OR_URL] [--server-threads T] [--timeout-s S]
//
// Workloads (what is timed):
//   queue  (default) N jobq.http GET jobs are enqueued first with enqueue_many (not timed);
//          then one Worker (queue concurrency C, blocking_threads 1, add_http_kind allowing
//          127.0.0.1) drains them: worker start -> last outcome committed. The store must then
//          hold N completed jobs.
//   floor  the same N requests through CurlMulti directly, C at a time, on one io_context
//          thread: no queue, no store, one easy handle per lane reused. The most the kind
//          could reach on this machine against this server.
//
// The server is this program again in a child process (--serve, hidden): Boost.Beast on
// Asio, HTTP/1.1 keep-alive on 127.0.0.1, T threads (default 2), answering every request 200
// after D ms (default 0) on a steady_timer. It counts the requests it holds open at once;
// GET /_stats tells the peak. It is killed (SIGKILL) and reaped at the end of the run.
//
// peak_threads is the most entries /proc/self/task held while the run was timed, sampled
// every 20 ms and at the end: every thread of the bench process, its idle main thread too.
//
// --db: a store URL as for jobq-bench (sqlite:PATH?durability=..., postgresql://...); it is
// deleted and created afresh (PostgreSQL: the schema, default jobq_http_bench, is dropped).
// Default: a fresh SQLite file in a temporary directory, at the library's default
// durability.

#include <curl/curl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "common/flag_value.hpp"
#include "common/open_store.hpp"
#include "curl_multi.hpp"
#include "easy_handle.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/kinds/http_kind.hpp"
#include "jobq/queue.hpp"
#include "jobq/registry.hpp"
#include "jobq/worker.hpp"

#ifdef JOBQ_TOOLS_HAVE_POSTGRES
#include <pqxx/pqxx>
#endif

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

using jobq::tools::BadArgs;
using jobq::tools::parse_integer_flag;

constexpr std::string_view usage =
    "usage: jobq-http-bench [--workload queue|floor] [--jobs N] [--concurrency C]\n"
    "                       [--delay-ms D] [--db PATH_OR_URL] [--server-threads T]\n"
    "                       [--timeout-s S]\n"
    "defaults: queue, 20000 jobs, concurrency 500, delay 0 ms, a fresh SQLite file in a\n"
    "temporary directory, 2 server threads, 300 s before the run is abandoned\n";

struct Options {
    std::string workload = "queue";
    std::int64_t jobs = 20'000;
    int concurrency = 500;
    int delay_ms = 0;
    std::string db;  // empty: a fresh SQLite file in the temporary directory
    int server_threads = 2;
    int timeout_s = 300;
};

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            fmt::print("{}", usage);
            std::exit(0);
        }
        if (i + 1 >= argc) throw BadArgs(fmt::format("{}: missing value", flag));
        const std::string_view value = argv[++i];
        if (flag == "--workload") {
            if (value != "queue" && value != "floor") {
                throw BadArgs(fmt::format("--workload: expected queue or floor, got '{}'", value));
            }
            o.workload = value;
        } else if (flag == "--jobs") {
            o.jobs = parse_integer_flag(flag, value, 1, std::numeric_limits<std::int64_t>::max());
        } else if (flag == "--concurrency") {
            o.concurrency = static_cast<int>(parse_integer_flag(flag, value, 1, 100'000));
        } else if (flag == "--delay-ms") {
            o.delay_ms = static_cast<int>(parse_integer_flag(flag, value, 0, 600'000));
        } else if (flag == "--db") {
            o.db = value;
        } else if (flag == "--server-threads") {
            o.server_threads = static_cast<int>(parse_integer_flag(flag, value, 1, 256));
        } else if (flag == "--timeout-s") {
            o.timeout_s = static_cast<int>(parse_integer_flag(flag, value, 1, 86'400));
        } else {
            throw BadArgs(fmt::format("unknown option '{}'", flag));
        }
    }
    return o;
}

// C connections on each side of loopback, plus the store's files: the default soft limit of
// 1024 descriptors would cap the concurrency we can ask for, so take what the hard limit allows.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &limit);
    }
}

// ---- the server (child process) ------------------------------------------------------------

struct ServerStats {
    std::atomic<std::int64_t> open{0};  // requests read and not yet answered
    std::atomic<std::int64_t> peak_open{0};
    std::atomic<std::int64_t> connections{0};
    std::atomic<std::int64_t> peak_connections{0};
    std::atomic<std::int64_t> accepted{0};  // connections over the run: reuse shows here
    std::atomic<std::int64_t> requests{0};  // answered with 200, /_stats not counted
};

void raise_peak(std::atomic<std::int64_t>& peak, std::int64_t now) {
    std::int64_t seen = peak.load(std::memory_order_relaxed);
    while (now > seen && !peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
    }
}

std::string stats_json(const ServerStats& s) {
    return nlohmann::json{{"peak_open", s.peak_open.load()},
                          {"peak_connections", s.peak_connections.load()},
                          {"connections", s.accepted.load()},
                          {"requests", s.requests.load()}}
        .dump();
}

// One coroutine per connection: its reads, waits and writes follow one another, so the
// connection needs no strand even though the io_context runs on several threads.
asio::awaitable<void> serve_connection(tcp::socket socket, ServerStats& stats,
                                       std::chrono::milliseconds delay) {
    ++stats.accepted;
    raise_peak(stats.peak_connections, ++stats.connections);
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    // Errors are values, not exceptions: the client closing a keep-alive connection is how
    // every connection ends, and a throw per connection would be cost the bench measures.
    constexpr auto token = asio::as_tuple(asio::use_awaitable);
    beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> request;
        auto [read_error, read_bytes] = co_await http::async_read(socket, buffer, request, token);
        if (read_error) break;
        const bool stats_route = request.target() == "/_stats";
        http::response<http::string_body> response{http::status::ok, request.version()};
        if (stats_route) {
            response.set(http::field::content_type, "application/json");
            response.body() = stats_json(stats);
        } else {
            raise_peak(stats.peak_open, ++stats.open);
            if (delay.count() > 0) {
                asio::steady_timer timer{socket.get_executor(), delay};
                co_await timer.async_wait(token);
            }
            response.set(http::field::content_type, "text/plain");
            response.body() = "ok\n";
        }
        response.keep_alive(request.keep_alive());
        response.prepare_payload();
        auto [write_error, written] = co_await http::async_write(socket, response, token);
        if (!stats_route) {
            --stats.open;
            if (!write_error) ++stats.requests;
        }
        if (write_error || !response.keep_alive()) break;
    }
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    --stats.connections;
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, ServerStats& stats,
                                  std::chrono::milliseconds delay) {
    for (;;) {
        auto [error, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (error == asio::error::operation_aborted) co_return;
        if (error == asio::error::connection_aborted) continue;  // died in the backlog
        if (error) {
            // Out of descriptors, most likely: say so, and back off instead of spinning on a
            // backlog that stays full until connections close.
            fmt::print(stderr, "jobq-http-bench: server: accept: {}\n", error.message());
            asio::steady_timer backoff{acceptor.get_executor(), 10ms};
            co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        asio::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket), stats, delay),
                       asio::detached);
    }
}

// --serve PORTFILE DELAY_MS THREADS: listens on 127.0.0.1 (a port the kernel picks), writes
// the port to PORTFILE and serves until killed.
int serve(const std::filesystem::path& port_file, int delay_ms, int threads) {
    // Exec'd through /proc/self/exe, it would be "exe" in ps and perf; this names it.
    prctl(PR_SET_NAME, "jobq-http-serve");
    asio::io_context io{threads};
    tcp::acceptor acceptor{io};
    const tcp::endpoint endpoint{asio::ip::make_address_v4("127.0.0.1"), 0};
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    // C clients connect at the same instant; a short backlog would drop SYNs and add the
    // kernel's 1 s retransmit to the figures.
    acceptor.listen(asio::socket_base::max_listen_connections);
    ServerStats stats;
    asio::co_spawn(io, accept_loop(acceptor, stats, std::chrono::milliseconds{delay_ms}),
                   asio::detached);

    // Written aside and renamed, so the parent never reads half a number.
    const std::filesystem::path partial = port_file.string() + ".partial";
    {
        std::ofstream out{partial};
        out << acceptor.local_endpoint().port() << '\n';
        if (!out.flush()) throw std::runtime_error("cannot write " + partial.string());
    }
    std::filesystem::rename(partial, port_file);

    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
    io.run();
    for (std::thread& t : pool) t.join();
    return 0;
}

// ---- the parent's view of the server --------------------------------------------------------

// The server child: started before anything else in this process (no threads yet), killed
// with SIGKILL and reaped however the run ends.
class ServerProcess {
  public:
    ServerProcess(const std::filesystem::path& dir, const Options& o) {
        const std::filesystem::path port_file = dir / "server.port";
        const std::string delay = std::to_string(o.delay_ms);
        const std::string threads = std::to_string(o.server_threads);
        const pid_t parent = getpid();
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            // A bench killed before it reaps its server must not leave it listening.
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(1);
            const char* argv[] = {"jobq-http-bench", "--serve",       port_file.c_str(),
                                  delay.c_str(),     threads.c_str(), nullptr};
            execv("/proc/self/exe", const_cast<char* const*>(argv));
            _exit(127);
        }
        port_ = wait_for_port(port_file);
    }
    ~ServerProcess() {
        kill(pid_, SIGKILL);
        int status = 0;
        while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    std::string url(std::string_view path) const {
        return fmt::format("http://127.0.0.1:{}{}", port_, path);
    }

    /// CPU seconds (user + system) the server has used so far, all its threads together.
    double cpu_seconds() const {
        std::ifstream in{fmt::format("/proc/{}/stat", pid_)};
        std::string stat{std::istreambuf_iterator<char>{in}, {}};
        // Fields after the command name, which is in parentheses and may hold spaces:
        // state is field 3, utime and stime are fields 14 and 15.
        std::istringstream fields{stat.substr(std::min(stat.size(), stat.rfind(')') + 1))};
        std::string field;
        double ticks = 0;
        for (int n = 3; n <= 15 && fields >> field; ++n) {
            if (n >= 14) ticks += std::strtod(field.c_str(), nullptr);
        }
        return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
    }

  private:
    // Bounded: the child binds and writes its port within milliseconds, or has died.
    int wait_for_port(const std::filesystem::path& port_file) const {
        const Clock::time_point deadline = Clock::now() + 10s;
        for (;;) {
            if (std::ifstream in{port_file}; in) {
                int port = 0;
                if (in >> port && port > 0) return port;
            }
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                throw std::runtime_error(fmt::format("the server exited before listening ({})",
                                                     WIFEXITED(status) ? WEXITSTATUS(status) : -1));
            }
            if (Clock::now() > deadline) {
                throw std::runtime_error("the server did not report its port within 10 s");
            }
            std::this_thread::sleep_for(1ms);
        }
    }

    pid_t pid_ = -1;
    int port_ = 0;
};

// GET /_stats with a plain easy handle, after the run: the server's own count.
nlohmann::json server_stats(const ServerProcess& server) {
    jobq::kinds::EasyHandle easy = jobq::kinds::make_easy();
    std::string body;
    const std::string url = server.url("/_stats");
    curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy.get(), CURLOPT_PROXY, "");
    curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, 10'000L);
    curl_easy_setopt(
        easy.get(), CURLOPT_WRITEFUNCTION,
        +[](char* data, std::size_t size, std::size_t n, void* into) -> std::size_t {
            static_cast<std::string*>(into)->append(data, size * n);
            return size * n;
        });
    curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &body);
    if (const CURLcode code = curl_easy_perform(easy.get()); code != CURLE_OK) {
        throw std::runtime_error(
            fmt::format("GET /_stats from the server: {}", curl_easy_strerror(code)));
    }
    return nlohmann::json::parse(body);
}

// ---- measuring -----------------------------------------------------------------------------

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

int thread_count() {
    int n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator{"/proc/self/task", ec};
         !ec && it != std::filesystem::directory_iterator{}; it.increment(ec)) {
        ++n;
    }
    return n;
}

// CPUs this process may run on, as nproc(1) counts them.
int cpus_available() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        return static_cast<int>(std::thread::hardware_concurrency());
    }
    return CPU_COUNT(&set);
}

// An io_context on a thread of its own; the main thread only waits and samples.
struct IoThread {
    asio::io_context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    std::thread thread{[this] {
        io.run();
    }};
    void stop() {
        io.stop();
        if (thread.joinable()) thread.join();
    }
    ~IoThread() { stop(); }
};

// How far the timed part got. Writers notify only when it is over (all done, or a failure):
// a wake-up per request would put the main thread's cost into the figure.
struct Progress {
    std::mutex mutex;
    std::condition_variable over;
    std::int64_t done = 0;
    std::string failure;
};

// Waits until `target` are done or one failed, sampling the thread count every 20 ms; returns
// the peak. Throws on a failure or when the deadline passes.
int wait_sampling(Progress& p, std::int64_t target, Clock::time_point deadline) {
    int peak = thread_count();
    std::unique_lock lock(p.mutex);
    while (p.done < target && p.failure.empty()) {
        if (Clock::now() > deadline) {
            throw std::runtime_error(
                fmt::format("only {} of {} requests done before the deadline", p.done, target));
        }
        p.over.wait_for(lock, 20ms);
        lock.unlock();
        peak = std::max(peak, thread_count());
        lock.lock();
    }
    if (!p.failure.empty()) throw std::runtime_error(p.failure);
    return peak;
}

struct RunResult {
    double seconds = 0;
    int peak_threads = 0;
    double cpu_seconds = 0;  // this process, all threads
    double server_cpu_seconds = 0;
};

// CPU seconds (user + system) this process has used so far, all its threads together.
double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The timed part of a run: wall clock, and the CPU both processes spent in it. CPU per request
// is the figure that survives a machine shared with other work; requests/s is not.
class Window {
  public:
    explicit Window(const ServerProcess& server)
        : server_(server), server_cpu_(server.cpu_seconds()), cpu_(process_cpu_seconds()) {}
    Clock::time_point start() const { return start_; }
    void close(RunResult& r) const {
        r.seconds = seconds_between(start_, Clock::now());
        r.cpu_seconds = process_cpu_seconds() - cpu_;
        r.server_cpu_seconds = server_.cpu_seconds() - server_cpu_;
    }

  private:
    const ServerProcess& server_;
    double server_cpu_;
    double cpu_;
    Clock::time_point start_ = Clock::now();
};

// ---- floor: CurlMulti alone ----------------------------------------------------------------

std::size_t discard_body(char*, std::size_t size, std::size_t n, void*) {
    return size * n;
}

struct FloorState {
    std::int64_t jobs = 0;
    std::int64_t started = 0;  // touched on the io thread only
    std::int64_t finished = 0;
    Progress progress;
};

// One lane keeps one request in flight until none is left; C lanes make concurrency C.
asio::awaitable<void> floor_lane(std::shared_ptr<jobq::kinds::CurlMulti> multi, CURL* easy,
                                 FloorState& st) {
    while (st.started < st.jobs) {
        ++st.started;
        const CURLcode code = co_await multi->perform(easy);
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        const bool ok = code == CURLE_OK && status == 200;
        if (++st.finished == st.jobs || !ok) {
            const std::lock_guard lock(st.progress.mutex);
            st.progress.done = st.finished;
            if (!ok && st.progress.failure.empty()) {
                st.progress.failure = fmt::format("floor: a request ended with {} (HTTP {})",
                                                  curl_easy_strerror(code), status);
            }
            st.progress.over.notify_one();
        }
        if (!ok) co_return;
    }
}

RunResult run_floor(const Options& o, const ServerProcess& server) {
    const std::string url = server.url("/job");
    const auto lanes = static_cast<std::size_t>(std::min<std::int64_t>(o.concurrency, o.jobs));
    // The leanest use of the multi: each lane sets its handle up once and reuses it.
    std::vector<jobq::kinds::EasyHandle> easies;
    for (std::size_t i = 0; i < lanes; ++i) {
        jobq::kinds::EasyHandle e = jobq::kinds::make_easy();
        curl_easy_setopt(e.get(), CURLOPT_URL, url.c_str());
        curl_easy_setopt(e.get(), CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e.get(), CURLOPT_PROXY, "");
        curl_easy_setopt(e.get(), CURLOPT_WRITEFUNCTION, &discard_body);
        easies.push_back(std::move(e));
    }
    FloorState st;
    st.jobs = o.jobs;
    IoThread runner;
    auto multi = jobq::kinds::CurlMulti::create(runner.io.get_executor());
    const Window window{server};
    for (auto& e : easies) {
        asio::co_spawn(runner.io, floor_lane(multi, e.get(), st), asio::detached);
    }
    RunResult r;
    r.peak_threads =
        wait_sampling(st.progress, o.jobs, window.start() + std::chrono::seconds{o.timeout_s});
    window.close(r);
    // Stopped before the multi goes: its strand and timer must not be in use when it does.
    runner.stop();
    return r;
}

// ---- queue: a real Worker and store --------------------------------------------------------

constexpr const char* default_bench_schema = "jobq_http_bench";

struct Target {
    std::unique_ptr<jobq::Store> store;
    std::string backend;
    std::string durability;  // sqlite only
    std::string location;    // as given, any password hidden
};

Target open_fresh(const std::string& db) {
    jobq::tools::StoreLocation location = jobq::tools::parse_store_url(db);
    Target t;
    t.location = location.url;
    if (location.backend == jobq::tools::Backend::sqlite) {
        for (const char* suffix : {"", "-wal", "-shm"}) {
            std::filesystem::remove(location.sqlite_path + suffix);
        }
        t.backend = "sqlite";
        t.durability =
            location.sqlite_options.durability == jobq::SqliteDurability::full ? "full" : "normal";
    } else {
        t.backend = "postgres";
        if (!location.postgres_schema_given) {
            location.postgres_options.schema = default_bench_schema;
        }
#ifdef JOBQ_TOOLS_HAVE_POSTGRES
        pqxx::connection connection{location.postgres_conninfo};
        pqxx::nontransaction tx{connection};
        tx.exec0("DROP SCHEMA IF EXISTS " + tx.quote_name(location.postgres_options.schema) +
                 " CASCADE");
#endif  // else open_store reports that the backend is not built in
    }
    t.store = jobq::tools::open_store(location);
    t.store->migrate();
    return t;
}

std::int64_t count_in_state(jobq::Store& store, jobq::JobState state) {
    std::int64_t n = 0;
    for (const jobq::QueueStats& q : store.stats(jobq::system_clock().now())) n += q.count(state);
    return n;
}

RunResult run_queue(const Options& o, Target& t, const ServerProcess& server) {
    {
        jobq::Queue queue{*t.store};
        const std::vector<jobq::JobSpec> batch(
            1000, jobq::kinds::http_job({{"url", server.url("/job")}}));
        for (std::int64_t done = 0; done < o.jobs;) {
            const std::int64_t k = std::min<std::int64_t>(1000, o.jobs - done);
            queue.enqueue_many(
                std::span<const jobq::JobSpec>(batch.data(), static_cast<std::size_t>(k)));
            done += k;
        }
    }

    // The registry holds the kind's CurlMulti: declared before the io_context, so the multi
    // outlives it and is shut down by it (curl_multi.hpp).
    jobq::Registry registry;
    jobq::kinds::HttpOptions http;
    http.allow_hosts = {"127.0.0.1"};
    jobq::kinds::add_http_kind(registry, http);

    Progress progress;
    IoThread runner;
    jobq::WorkerOptions options;
    options.queues = {{"default", o.concurrency}};
    // Handlers are coroutines; the plain-function pool would otherwise start 64 idle threads
    // (min(total concurrency, 64)) and count against "threads used".
    options.blocking_threads = 1;
    options.shutdown_grace = 2s;  // only an abandoned run has handlers left to wait for
    options.on_error = [](const std::string& m) {
        fmt::print(stderr, "jobq-http-bench: worker: {}\n", m);
    };
    options.on_attempt = [&](const jobq::AttemptReport& r) {
        const std::lock_guard lock(progress.mutex);
        if (r.outcome != "completed" && progress.failure.empty()) {
            progress.failure =
                fmt::format("job {} ended its attempt with '{}': {}", r.id, r.outcome, r.message);
        }
        if (++progress.done == o.jobs || !progress.failure.empty()) progress.over.notify_one();
    };
    jobq::Worker worker{runner.io.get_executor(), *t.store, registry, options};

    RunResult r;
    const Window window{server};
    const Clock::time_point deadline = window.start() + std::chrono::seconds{o.timeout_s};
    worker.start();
    try {
        r.peak_threads = wait_sampling(progress, o.jobs, deadline);
        // The last handlers have returned; their outcomes are committed when counters() says
        // so. A short tail, polled tightly (bounded by the same deadline).
        for (jobq::WorkerCounters c = worker.counters(); c.completed < o.jobs;
             c = worker.counters()) {
            if (c.fenced_out > 0) throw std::runtime_error("the store refused an outcome");
            if (Clock::now() > deadline) {
                throw std::runtime_error("the last outcomes were not committed in time");
            }
            std::this_thread::sleep_for(50us);
        }
        window.close(r);
        r.peak_threads = std::max(r.peak_threads, thread_count());
    } catch (...) {
        worker.stop();
        throw;
    }
    worker.stop();
    runner.stop();

    // The store's own view, untimed: every job completed, nothing left in another state.
    const Clock::time_point settle = Clock::now() + 10s;
    for (std::int64_t completed = count_in_state(*t.store, jobq::JobState::completed);
         completed != o.jobs; completed = count_in_state(*t.store, jobq::JobState::completed)) {
        if (Clock::now() > settle) {
            throw std::runtime_error(
                fmt::format("the store holds {} completed jobs, expected {}", completed, o.jobs));
        }
        std::this_thread::sleep_for(10ms);
    }
    return r;
}

// ---- the run --------------------------------------------------------------------------------

// A private directory for the server's port file and the default SQLite file.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string templ = (std::filesystem::temp_directory_path() / "jobq-http-bench-XXXXXX");
        if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
        path = templ;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

nlohmann::json run(const Options& o) {
    TempDir dir;
    // Forked before this process starts any thread: the child execs at once anyway, but a
    // fork with threads running is never worth reasoning about.
    ServerProcess server{dir.path, o};
    jobq::kinds::ensure_curl_global_init();

    std::optional<Target> target;
    if (o.workload == "queue")
        target = open_fresh(o.db.empty() ? (dir.path / "http-bench.db").string() : o.db);
    const RunResult r =
        o.workload == "queue" ? run_queue(o, *target, server) : run_floor(o, server);
    const nlohmann::json stats = server_stats(server);
    if (stats.at("requests").get<std::int64_t>() < o.jobs) {
        throw std::runtime_error(fmt::format("the server answered {} requests, expected {}",
                                             stats.at("requests").dump(), o.jobs));
    }

    nlohmann::json j;
    j["workload"] = o.workload;
    j["jobs"] = o.jobs;
    j["concurrency"] = o.concurrency;
    j["delay_ms"] = o.delay_ms;
    j["seconds"] = std::round(r.seconds * 1e4) / 1e4;
    j["requests_per_s"] = std::round(static_cast<double>(o.jobs) / r.seconds);
    j["peak_threads"] = r.peak_threads;
    j["cpu_seconds"] = std::round(r.cpu_seconds * 1e3) / 1e3;
    j["cpu_us_per_request"] = std::round(r.cpu_seconds * 1e7 / static_cast<double>(o.jobs)) / 10;
    j["server_cpu_seconds"] = std::round(r.server_cpu_seconds * 1e3) / 1e3;
    j["server_peak_open"] = stats.at("peak_open");
    j["server_peak_connections"] = stats.at("peak_connections");
    // Less the connection that GET /_stats itself opened.
    j["server_connections"] = stats.at("connections").get<std::int64_t>() - 1;
    j["server_requests"] = stats.at("requests");
    j["server_threads"] = o.server_threads;
    if (target) {
        j["backend"] = target->backend;
        if (!target->durability.empty()) j["durability"] = target->durability;
        j["store"] = o.db.empty() ? std::string{"fresh temporary file"} : target->location;
    }
    j["nproc"] = cpus_available();
    j["curl"] = curl_version_info(CURLVERSION_NOW)->version;
    return j;
}

}  // namespace

int main(int argc, char** argv) {
    raise_descriptor_limit();
    if (argc == 5 && std::string_view{argv[1]} == "--serve") {
        try {
            return serve(argv[2], std::atoi(argv[3]), std::max(1, std::atoi(argv[4])));
        } catch (const std::exception& e) {
            fmt::print(stderr, "jobq-http-bench: server: {}\n", e.what());
            return 1;
        }
    }
    Options o;
    try {
        o = parse_args(argc, argv);
    } catch (const BadArgs& e) {
        fmt::print(stderr, "jobq-http-bench: {}\n{}", e.what(), usage);
        return 2;
    }
    try {
        fmt::print("{}\n", run(o).dump());
        return 0;
    } catch (const BadArgs& e) {
        fmt::print(stderr, "jobq-http-bench: {}\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "jobq-http-bench: {}\n", e.what());
        return 1;
    }
}
