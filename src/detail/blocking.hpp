#pragma once
// run_blocking: runs a blocking call on a thread pool and resumes the awaiting coroutine on
// its own executor with the result (or the exception). This is how the core keeps store calls
// off the application's executor.
//
// It is a plain function returning the awaitable, not a coroutine, and callers pass a named
// lambda (std::move'd), not a temporary: GCC 12 mishandles non-trivial temporaries inside a
// co_await expression (it destroys a bitwise copy twice).

#include <exception>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace jobq::detail {

template <class Executor, class F>
auto run_blocking(Executor pool, F f) {
    using R = std::invoke_result_t<F&>;
    namespace asio = boost::asio;
    if constexpr (std::is_void_v<R>) {
        auto initiate = [pool, f = std::move(f)](auto handler) mutable {
            asio::post(pool, [f = std::move(f), handler = std::move(handler)]() mutable {
                std::exception_ptr error;
                try {
                    f();
                } catch (...) {
                    error = std::current_exception();
                }
                auto ex = asio::get_associated_executor(handler);
                asio::post(ex, [handler = std::move(handler), error]() mutable { std::move(handler)(error); });
            });
        };
        return asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
            std::move(initiate), asio::use_awaitable);
    } else {
        static_assert(std::is_default_constructible_v<R>, "run_blocking needs a default-constructible result");
        auto initiate = [pool, f = std::move(f)](auto handler) mutable {
            asio::post(pool, [f = std::move(f), handler = std::move(handler)]() mutable {
                std::exception_ptr error;
                R value{};
                try {
                    value = f();
                } catch (...) {
                    error = std::current_exception();
                }
                auto ex = asio::get_associated_executor(handler);
                asio::post(ex, [handler = std::move(handler), error, value = std::move(value)]() mutable {
                    std::move(handler)(error, std::move(value));
                });
            });
        };
        return asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, R)>(
            std::move(initiate), asio::use_awaitable);
    }
}

}  // namespace jobq::detail
