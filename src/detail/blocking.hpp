#pragma once
// run_blocking: runs a blocking call on a thread pool and resumes the awaiting coroutine on
// its own executor with the result (or the exception). This is how the core keeps store calls
// off the application's executor.

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace jobq::detail {

template <class Executor, class F>
auto run_blocking(Executor pool, F f) -> boost::asio::awaitable<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    using Slot = std::conditional_t<std::is_void_v<R>, std::optional<bool>, std::optional<R>>;
    auto initiate = [pool, f = std::move(f)](auto handler) mutable {
        boost::asio::post(pool, [f = std::move(f), handler = std::move(handler)]() mutable {
            std::exception_ptr error;
            Slot value;
            try {
                if constexpr (std::is_void_v<R>) {
                    f();
                    value.emplace(true);
                } else {
                    value.emplace(f());
                }
            } catch (...) {
                error = std::current_exception();
            }
            auto ex = boost::asio::get_associated_executor(handler);
            boost::asio::post(ex, [handler = std::move(handler), error,
                                   value = std::move(value)]() mutable {
                handler(error, std::move(value));
            });
        });
    };
    Slot result = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                       void(std::exception_ptr, Slot)>(
        std::move(initiate), boost::asio::use_awaitable);
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

}  // namespace jobq::detail
