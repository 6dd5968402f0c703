#pragma once
// Registry: job kind -> handler. Handlers come in four shapes, all stored type-erased:
//   awaitable<void>(JobContext&)              runs on the worker's executor
//   awaitable<nlohmann::json>(JobContext&)    same; the JSON is stored as the job's result
//   void(JobContext&) / json(JobContext&)     plain functions, run on a thread pool
// and each of them with a typed payload first: add<Args>(kind, f) with f(Args, JobContext&),
// where Args is read from the payload through nlohmann from_json.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "jobq/job_context.hpp"
#include "jobq/retry_policy.hpp"

namespace jobq {

/// Per-kind settings; they apply unless the job itself says otherwise.
struct HandlerOptions {
    std::optional<RetryPolicy> retry;  ///< backoff for this kind (may be custom)
    std::optional<Duration> timeout;   ///< per-attempt limit for this kind
};

namespace detail {
template <class T>
struct is_awaitable : std::false_type {};
template <class T, class E>
struct is_awaitable<boost::asio::awaitable<T, E>> : std::true_type {};

template <class F, class... A>
boost::asio::awaitable<nlohmann::json> await_as_json(std::shared_ptr<F> f, A&... args) {
    using R = typename std::invoke_result_t<F&, A&...>::value_type;
    if constexpr (std::is_void_v<R>) {
        co_await (*f)(args...);
        co_return nullptr;
    } else {
        co_return nlohmann::json(co_await (*f)(args...));
    }
}

template <class Args, class F>
boost::asio::awaitable<nlohmann::json> await_typed(std::shared_ptr<F> f, JobContext& ctx) {
    Args args = ctx.payload().template get<Args>();  // lives in this frame for the whole run
    co_return co_await await_as_json(f, args, ctx);
}
}  // namespace detail

/// Maps job kinds to handlers. Add handlers before workers start; lookups are thread-safe.
class Registry {
  public:
    using AsyncFn = std::function<boost::asio::awaitable<nlohmann::json>(JobContext&)>;
    using BlockingFn = std::function<nlohmann::json(JobContext&)>;

    /// A registered kind: exactly one of `async`/`blocking` is set.
    struct Entry {
        std::string kind;
        AsyncFn async;
        BlockingFn blocking;
        HandlerOptions options;
    };

    /// Registers `f(JobContext&)` for `kind`. Throws Error(invalid_argument) on an empty or
    /// already registered kind.
    template <class F>
    Registry& add(std::string kind, F f, HandlerOptions options = {}) {
        using R = std::invoke_result_t<F&, JobContext&>;
        auto fp = std::make_shared<F>(std::move(f));
        Entry e{std::move(kind), {}, {}, std::move(options)};
        if constexpr (detail::is_awaitable<R>::value) {
            e.async = [fp](JobContext& c) {
                return detail::await_as_json(fp, c);
            };
        } else if constexpr (std::is_void_v<R>) {
            e.blocking = [fp](JobContext& c) -> nlohmann::json {
                (*fp)(c);
                return nullptr;
            };
        } else {
            e.blocking = [fp](JobContext& c) {
                return nlohmann::json((*fp)(c));
            };
        }
        return add_entry(std::move(e));
    }

    /// Registers `f(Args, JobContext&)`: the payload is converted to Args with from_json; a
    /// payload that does not convert fails the attempt.
    template <class Args, class F>
    Registry& add(std::string kind, F f, HandlerOptions options = {}) {
        using R = std::invoke_result_t<F&, Args&, JobContext&>;
        auto fp = std::make_shared<F>(std::move(f));
        Entry e{std::move(kind), {}, {}, std::move(options)};
        if constexpr (detail::is_awaitable<R>::value) {
            e.async = [fp](JobContext& c) {
                return detail::await_typed<Args>(fp, c);
            };
        } else {
            e.blocking = [fp](JobContext& c) -> nlohmann::json {
                Args args = c.payload().template get<Args>();
                if constexpr (std::is_void_v<R>) {
                    (*fp)(args, c);
                    return nullptr;
                } else {
                    return nlohmann::json((*fp)(args, c));
                }
            };
        }
        return add_entry(std::move(e));
    }

    /// The entry for `kind`, or nullptr. The pointer stays valid for the registry's lifetime.
    const Entry* find(std::string_view kind) const;
    /// Registered kinds, sorted.
    std::vector<std::string> kinds() const;

  private:
    Registry& add_entry(Entry e);

    mutable std::shared_mutex mutex_;
    std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace jobq
