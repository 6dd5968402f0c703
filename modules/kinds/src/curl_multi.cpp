// CurlMulti (curl_multi.hpp): libcurl's multi-socket API on Asio descriptors and one timer.

#include "curl_multi.hpp"

#include <poll.h>

#include <mutex>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

namespace asio = boost::asio;

namespace jobq::kinds {

namespace {
using Completion = asio::any_completion_handler<void(boost::system::error_code, CURLcode)>;
}  // namespace

void ensure_curl_global_init() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw std::runtime_error("libcurl could not be initialised (curl_global_init)");
        }
    });
}

namespace {

// Shuts down the multis made on an execution context when that context shuts down, before its
// services (the strands', the reactor) are destroyed.
class CurlMultiService : public asio::execution_context::service {
  public:
    using key_type = CurlMultiService;
    static inline asio::execution_context::id id;

    explicit CurlMultiService(asio::execution_context& context)
        : asio::execution_context::service(context) {}

    void track(const std::shared_ptr<CurlMulti>& multi) {
        std::lock_guard lock(mutex_);
        std::erase_if(multis_, [](const auto& w) { return w.expired(); });
        multis_.push_back(multi);
    }

  private:
    void shutdown() override {
        std::vector<std::weak_ptr<CurlMulti>> multis;
        {
            std::lock_guard lock(mutex_);
            multis.swap(multis_);
        }
        for (auto& w : multis) {
            if (auto m = w.lock()) m->shutdown();
        }
    }

    std::mutex mutex_;
    std::vector<std::weak_ptr<CurlMulti>> multis_;
};

}  // namespace

std::shared_ptr<CurlMulti> LazyMulti::get(const asio::any_io_executor& executor) {
    std::lock_guard lock(mutex_);
    if (!multi_ || multi_->down()) multi_ = CurlMulti::create(executor);
    return multi_;
}

std::shared_ptr<CurlMulti> LazyMulti::peek() const {
    std::lock_guard lock(mutex_);
    return multi_;
}

struct CurlMulti::Transfer {
    CURL* easy = nullptr;
    // Emplaced, never assigned: Boost 1.81's any_completion_handler move assignment recurses.
    std::optional<Completion> handler;
    asio::cancellation_slot slot;
    // The awaiting coroutine's executor, kept busy until the transfer's result is delivered.
    asio::any_io_executor work;
};

struct CurlMulti::Socket {
    Socket(const asio::strand<asio::any_io_executor>& strand, curl_socket_t s)
        : descriptor(strand, s), fd(s) {}
    asio::posix::stream_descriptor descriptor;  // never closes fd: released before curl closes it
    curl_socket_t fd;
    int want = 0;  // CURL_POLL_IN / OUT / INOUT
    bool reading = false;
    bool writing = false;
    bool removed = false;
};

std::shared_ptr<CurlMulti> CurlMulti::create(asio::any_io_executor executor) {
    auto& context = asio::query(executor, asio::execution::context);
    std::shared_ptr<CurlMulti> multi(new CurlMulti(std::move(executor)));
    asio::use_service<CurlMultiService>(context).track(multi);
    return multi;
}

CurlMulti::CurlMulti(asio::any_io_executor executor)
    : strand_(asio::make_strand(executor)), timer_(std::in_place, *strand_) {
    ensure_curl_global_init();
    multi_ = curl_multi_init();
    if (!multi_) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    // Keep idle keep-alive connections for a worker's worth of concurrency: libcurl's default
    // (4 per handle in the multi) closes them whenever the worker's in-flight count dips
    // between claims, and every new one is a TCP (and TLS) handshake again.
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 1024L);
}

CurlMulti::~CurlMulti() {
    shutdown();
    curl_multi_cleanup(multi_);
}

void CurlMulti::shutdown() {
    if (down_.exchange(true)) return;
    // Callbacks from here on would reach Asio objects that are going: none.
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, nullptr);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, nullptr);
    // Out of the multi before their owners (the awaiting coroutines, destroyed with the
    // handlers) clean the easy handles up.
    auto transfers = std::move(transfers_);
    transfers_.clear();
    for (auto& [easy, t] : transfers) {
        curl_multi_remove_handle(multi_, easy);
        t->slot.clear();
    }
    in_flight_ = 0;
    for (auto& [fd, sock] : sockets_) {
        sock->removed = true;
        sock->descriptor.release();  // cancels its waits; the fd stays curl's to close
    }
    sockets_.clear();
    timer_.reset();
    transfers.clear();
    strand_.reset();
}

asio::awaitable<CURLcode> CurlMulti::perform(CURL* easy) {
    asio::any_io_executor ex = co_await asio::this_coro::executor;
    auto self = shared_from_this();
    // Named, not a temporary in the co_await operand: GCC 12 destroys such temporaries twice
    // (a shared_ptr captured there lost a reference per transfer).
    auto initiation = [self, easy, ex](auto handler) {
        auto t = std::make_shared<Transfer>();
        t->easy = easy;
        t->slot = asio::get_associated_cancellation_slot(handler);
        t->work = asio::prefer(ex, asio::execution::outstanding_work.tracked);
        t->handler.emplace(std::move(handler));
        if (t->slot.is_connected()) {
            // Runs on the awaiting coroutine's executor (where cancellation is emitted);
            // the multi itself is touched only on its strand.
            std::weak_ptr<CurlMulti> weak_self = self;
            std::weak_ptr<Transfer> weak_t = t;
            t->slot.assign([weak_self, weak_t](asio::cancellation_type) {
                auto multi = weak_self.lock();
                if (!multi) return;
                asio::post(*multi->strand_, [multi, weak_t] {
                    if (auto live = weak_t.lock()) multi->abort(live);
                });
            });
        }
        asio::post(*self->strand_, [self, t] { self->add(t); });
    };
    auto token = asio::as_tuple(asio::use_awaitable);
    std::tuple<boost::system::error_code, CURLcode> result =
        co_await asio::async_initiate<decltype(token), void(boost::system::error_code, CURLcode)>(
            initiation, token);
    const auto [ec, code] = result;
    if (ec) throw boost::system::system_error(ec, "transfer aborted");
    co_return code;
}

void CurlMulti::add(std::shared_ptr<Transfer> t) {
    if (down_) return;  // the context is going; the handler goes with it
    transfers_[t->easy] = t;
    ++in_flight_;
    if (CURLMcode mc = curl_multi_add_handle(multi_, t->easy); mc != CURLM_OK) {
        transfers_.erase(t->easy);
        --in_flight_;
        // Reported as a failed transfer, like any other: the caller classifies CURLcodes.
        auto work = t->work;
        asio::post(work, [t] {
            t->slot.clear();
            std::move (*t->handler)(boost::system::error_code{}, CURLE_FAILED_INIT);
        });
    }
}

void CurlMulti::abort(const std::shared_ptr<Transfer>& t) {  // t is not the map's own pointer
    if (!transfers_.count(t->easy)) return;                  // finished first
    curl_multi_remove_handle(multi_, t->easy);
    finish(t, CURLE_ABORTED_BY_CALLBACK, true);
}

void CurlMulti::finish(std::shared_ptr<Transfer> t, CURLcode code, bool aborted) {
    transfers_.erase(t->easy);
    --in_flight_;
    auto work = t->work;
    asio::post(work, [t, code, aborted] {
        // On the coroutine's executor, where the slot is emitted: clearing it here cannot race.
        t->slot.clear();
        boost::system::error_code ec;
        if (aborted) ec = asio::error::operation_aborted;
        std::move (*t->handler)(ec, code);
    });
}

void CurlMulti::drain_messages() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        // Copy before removing the handle: the message belongs to it.
        CURL* easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        auto it = transfers_.find(easy);
        curl_multi_remove_handle(multi_, easy);
        if (it != transfers_.end()) finish(it->second, code, false);
    }
}

void CurlMulti::socket_action(curl_socket_t s, int events) {
    if (down_) return;
    int running = 0;
    curl_multi_socket_action(multi_, s, events, &running);
    drain_messages();
}

void CurlMulti::watch(const std::shared_ptr<Socket>& sock) {
    std::weak_ptr<CurlMulti> weak_self = weak_from_this();
    auto arm = [&](bool read) {
        bool& busy = read ? sock->reading : sock->writing;
        if (busy) return;
        busy = true;
        auto ready = [weak_self, sock, read](boost::system::error_code ec) {
            (read ? sock->reading : sock->writing) = false;
            auto self = weak_self.lock();
            if (!self || sock->removed || ec == asio::error::operation_aborted) return;
            if (!(sock->want & (read ? CURL_POLL_IN : CURL_POLL_OUT))) return;  // no longer asked
            self->socket_action(
                sock->fd, ec ? CURL_CSELECT_ERR : (read ? CURL_CSELECT_IN : CURL_CSELECT_OUT));
            if (!sock->removed) self->watch(sock);
        };
        // Asio waits on edge-triggered epoll, and curl may leave data unread: a socket that is
        // ready now would never signal again. Ask the kernel first, level-triggered.
        pollfd p{sock->fd, static_cast<short>(read ? POLLIN : POLLOUT), 0};
        if (::poll(&p, 1, 0) > 0) {
            asio::post(*strand_, [ready] { ready({}); });
        } else {
            sock->descriptor.async_wait(read ? asio::posix::descriptor_base::wait_read
                                             : asio::posix::descriptor_base::wait_write,
                                        asio::bind_executor(*strand_, ready));
        }
    };
    if (sock->want & CURL_POLL_IN) arm(true);
    if (sock->want & CURL_POLL_OUT) arm(false);
}

int CurlMulti::on_socket(CURL*, curl_socket_t s, int what, void* self_ptr, void*) {
    auto* self = static_cast<CurlMulti*>(self_ptr);
    if (what == CURL_POLL_REMOVE) {
        if (auto it = self->sockets_.find(s); it != self->sockets_.end()) {
            it->second->removed = true;
            it->second->descriptor.release();  // cancels its waits; curl closes the fd
            self->sockets_.erase(it);
        }
        return 0;
    }
    auto& sock = self->sockets_[s];
    if (!sock) sock = std::make_shared<Socket>(*self->strand_, s);
    sock->want = what;
    self->watch(sock);
    return 0;
}

int CurlMulti::on_timer(CURLM*, long timeout_ms, void* self_ptr) {
    auto* self = static_cast<CurlMulti*>(self_ptr);
    if (timeout_ms < 0) {
        self->timer_->cancel();
        return 0;
    }
    std::weak_ptr<CurlMulti> weak_now = self->weak_from_this();
    if (timeout_ms == 0) {
        // "Act now", asked once per added transfer: a post, not a timer (arming one costs a
        // timerfd_settime system call, a sixth of the whole io thread in jobq-http-bench). A
        // timer still armed from before may fire later: a spare socket_action is harmless.
        asio::post(*self->strand_, [weak_now] {
            if (auto s = weak_now.lock()) s->socket_action(CURL_SOCKET_TIMEOUT, 0);
        });
        return 0;
    }
    self->timer_->expires_after(std::chrono::milliseconds{timeout_ms});
    std::weak_ptr<CurlMulti> weak_self = self->weak_from_this();
    self->timer_->async_wait(
        asio::bind_executor(*self->strand_, [weak_self](boost::system::error_code ec) {
            if (ec) return;
            if (auto s = weak_self.lock()) s->socket_action(CURL_SOCKET_TIMEOUT, 0);
        }));
    return 0;
}

}  // namespace jobq::kinds
