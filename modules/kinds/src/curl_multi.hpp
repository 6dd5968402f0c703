#pragma once
// CurlMulti: many libcurl transfers on one Asio executor, without a thread per transfer.
// libcurl's multi-socket API tells us which sockets to watch and when to wake up; Asio waits on
// those descriptors and that timer, and hands readiness back to curl_multi_socket_action. This
// is the one place that knows both libraries.

#include <curl/curl.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace jobq::kinds {

/// Runs easy handles to completion on a strand of one executor. Thread-safe to call from any
/// executor; every libcurl call is made on the multi's strand.
class CurlMulti : public std::enable_shared_from_this<CurlMulti> {
  public:
    static std::shared_ptr<CurlMulti> create(boost::asio::any_io_executor executor);
    ~CurlMulti();
    CurlMulti(const CurlMulti&) = delete;
    CurlMulti& operator=(const CurlMulti&) = delete;

    /// Runs `easy` (fully configured, owned by the caller, not in any multi) to its end and
    /// returns libcurl's result for it. Cancelling the awaiting coroutine (terminal or partial)
    /// removes the transfer from the multi at once and throws boost::system::system_error
    /// (operation_aborted); `easy` is out of the multi before the coroutine resumes.
    boost::asio::awaitable<CURLcode> perform(CURL* easy);

    /// Transfers in flight now (for tests and the bench).
    std::size_t in_flight() const noexcept { return in_flight_.load(); }

    /// Drops every Asio object (strand, timer, descriptors) and every transfer, while the
    /// execution context is shutting down: the multi may outlive its context (a Registry
    /// declared before the io_context), and must not touch it afterwards. Called by the
    /// context's service; the multi is unusable after it.
    void shutdown();
    /// True once shutdown() ran.
    bool down() const noexcept { return down_.load(); }

    struct Transfer;
    struct Socket;

  private:
    explicit CurlMulti(boost::asio::any_io_executor executor);

    void add(std::shared_ptr<Transfer> t);
    void abort(const std::shared_ptr<Transfer>& t);
    void finish(std::shared_ptr<Transfer> t, CURLcode code,
                bool aborted);  // by value: erases its own map entry
    void drain_messages();
    void socket_action(curl_socket_t s, int events);
    void watch(const std::shared_ptr<Socket>& sock);

    static int on_socket(CURL* easy, curl_socket_t s, int what, void* self, void* sockp);
    static int on_timer(CURLM* multi, long timeout_ms, void* self);

    // Optional so shutdown() can end them while their context still exists.
    std::optional<boost::asio::strand<boost::asio::any_io_executor>> strand_;
    std::optional<boost::asio::steady_timer> timer_;
    std::atomic<bool> down_{false};
    CURLM* multi_ = nullptr;
    std::map<CURL*, std::shared_ptr<Transfer>> transfers_;
    std::map<curl_socket_t, std::shared_ptr<Socket>> sockets_;
    std::atomic<std::size_t> in_flight_{0};
};

/// The multi a job kind shares between its jobs, made on the executor of the first job that
/// runs (the worker's). Thread-safe.
class LazyMulti {
  public:
    /// The shared multi, made on `executor` (the calling job's) the first time.
    std::shared_ptr<CurlMulti> get(const boost::asio::any_io_executor& executor);
    /// The multi if one was made.
    std::shared_ptr<CurlMulti> peek() const;

  private:
    mutable std::mutex mutex_;
    std::shared_ptr<CurlMulti> multi_;
};

/// libcurl's process-wide setup, done once before the first handle (thread-safe).
void ensure_curl_global_init();

}  // namespace jobq::kinds
