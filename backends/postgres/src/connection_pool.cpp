#include "connection_pool.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <pqxx/except>

#include "jobq/error.hpp"

namespace jobq::postgres_detail {

namespace {

bool is_url(std::string_view conninfo) {
    return conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://");
}

// SQLSTATEs that mean "the server or the connection is gone", not "the statement is wrong":
// class 08 (connection exception), 57P01-57P05 (admin or crash shutdown, cannot connect now),
// 53300 (too many connections).
bool is_unavailable_state(std::string_view state) {
    return state.starts_with("08") || state.starts_with("57P") || state == "53300";
}

// libpq's messages end in a newline and may span lines; log lines want one.
std::string one_line(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '\n' || c == '\r' || c == '\t') {
            if (!out.empty() && out.back() != ' ') out += ' ';
        } else {
            out += c;
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

// The passwords written in `conninfo`: a URI's "user:PASSWORD@" and any "password=VALUE" (a
// key/value pair or a URI query parameter), as written.
std::vector<std::string> secrets_in(std::string_view conninfo) {
    std::vector<std::string> secrets;
    if (const std::size_t scheme = conninfo.find("://"); scheme != std::string_view::npos) {
        const std::string_view rest = conninfo.substr(scheme + 3);
        const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
        if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
            const std::string_view userinfo = authority.substr(0, at);
            if (const std::size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
                secrets.emplace_back(userinfo.substr(colon + 1));
            }
        }
    }
    for (std::size_t at = conninfo.find("password"); at != std::string_view::npos;
         at = conninfo.find("password", at + 1)) {
        std::size_t i = at + 8;
        while (i < conninfo.size() && conninfo[i] == ' ') ++i;
        if (i >= conninfo.size() || conninfo[i] != '=') continue;
        ++i;
        while (i < conninfo.size() && conninfo[i] == ' ') ++i;
        const bool quoted = i < conninfo.size() && conninfo[i] == '\'';
        if (quoted) ++i;
        const std::size_t end = conninfo.find_first_of(quoted ? "'" : " &", i);
        secrets.emplace_back(conninfo.substr(i, end == std::string_view::npos ? end : end - i));
    }
    std::erase_if(secrets, [](const std::string& s) { return s.empty(); });
    return secrets;
}

// libpq quotes the connection string in its parse errors; a message must never show a password.
std::string without_secrets(std::string message, std::string_view conninfo) {
    for (const std::string& secret : secrets_in(conninfo)) {
        for (std::size_t at = message.find(secret); at != std::string::npos;
             at = message.find(secret, at + 3)) {
            message.replace(at, secret.size(), "***");
        }
    }
    return message;
}

}  // namespace

void validate_conninfo(const std::string& conninfo) {
    char* message = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &message);
    if (options != nullptr) {
        PQconninfoFree(options);
        return;
    }
    const std::string why =
        message != nullptr ? without_secrets(one_line(message), conninfo) : "out of memory";
    PQfreemem(message);
    throw Error(ErrorCode::invalid_argument,
                fmt::format("conninfo: not a valid PostgreSQL connection string: {}", why),
                "conninfo");
}

std::string with_connect_timeout(std::string conninfo, std::chrono::milliseconds timeout) {
    if (conninfo.find("connect_timeout") != std::string::npos) return conninfo;
    const long long seconds = std::max<long long>(2, (timeout.count() + 999) / 1000);
    if (is_url(conninfo)) {
        conninfo += conninfo.find('?') == std::string::npos ? '?' : '&';
        conninfo += fmt::format("connect_timeout={}", seconds);
    } else {
        conninfo += fmt::format(" connect_timeout={}", seconds);
    }
    return conninfo;
}

void rethrow_as_error(std::string_view op, bool& connection_lost) {
    try {
        throw;
    } catch (const Error&) {
        throw;
    } catch (const pqxx::broken_connection& e) {
        connection_lost = true;
        throw Error(
            ErrorCode::unavailable,
            fmt::format("{}: the connection to PostgreSQL was lost: {}", op, one_line(e.what())));
    } catch (const pqxx::in_doubt_error& e) {
        connection_lost = true;
        throw Error(ErrorCode::unavailable,
                    fmt::format("{}: the connection was lost during commit; the change may or "
                                "may not have been applied: {}",
                                op, one_line(e.what())));
    } catch (const pqxx::sql_error& e) {
        const std::string& state = e.sqlstate();
        if (is_unavailable_state(state)) {
            connection_lost = true;
            throw Error(ErrorCode::unavailable,
                        fmt::format("{}: PostgreSQL is unavailable ({}): {}", op, state,
                                    one_line(e.what())));
        }
        if (state == "42P01" || state == "3F000") {
            throw Error(ErrorCode::schema,
                        fmt::format("{}: the database is not migrated; run migrate() ({})", op,
                                    one_line(e.what())));
        }
        // Class 22 (data exception: a value out of range, untranslatable text, bad JSON) means
        // the input was bad, whatever check let it through; the statement wrote nothing.
        if (state.starts_with("22")) {
            throw Error(ErrorCode::invalid_argument,
                        fmt::format("{}: PostgreSQL refused a value ({}): {}", op, state,
                                    one_line(e.what())));
        }
        throw Error(ErrorCode::storage, fmt::format("{}: PostgreSQL refused the statement ({}): {}",
                                                    op, state, one_line(e.what())));
    } catch (const pqxx::failure& e) {
        throw Error(ErrorCode::storage, fmt::format("{}: {}", op, one_line(e.what())));
    }
}

ConnectionPool::ConnectionPool(std::string conninfo, int size,
                               std::function<void(pqxx::connection&)> on_open)
    : conninfo_(std::move(conninfo)), size_(std::max(1, size)), on_open_(std::move(on_open)) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::~Lease() {
    if (pool != nullptr) pool->release(*this);
}

ConnectionPool::Lease ConnectionPool::acquire(std::string_view op) {
    Lease lease;
    {
        std::unique_lock lock(mutex_);
        freed_.wait(lock, [this] { return !idle_.empty() || open_ < size_; });
        if (!idle_.empty()) {
            lease.connection = std::move(idle_.back());
            idle_.pop_back();
            lease.pool = this;
            return lease;
        }
        ++open_;  // reserved; opened below without holding the lock
    }
    try {
        auto connection = std::make_unique<pqxx::connection>(conninfo_);
        if (on_open_) on_open_(*connection);
        lease.connection = std::move(connection);
        lease.pool = this;
        return lease;
    } catch (const std::exception& e) {
        {
            std::lock_guard lock(mutex_);
            --open_;
        }
        freed_.notify_one();
        // libpqxx 6.4 reports every failure to connect (server down, refused login, no such
        // database) the same way; all are worth retrying, as the server may be on its way.
        throw Error(ErrorCode::unavailable,
                    fmt::format("{}: cannot connect to PostgreSQL: {}", op, one_line(e.what())));
    }
}

void ConnectionPool::release(Lease& lease) noexcept {
    if (lease.pool == nullptr) return;
    lease.pool = nullptr;
    {
        std::lock_guard lock(mutex_);
        if (lease.broken || !lease.connection) {
            --open_;
        } else {
            idle_.push_back(std::move(lease.connection));
        }
    }
    // Dropped outside the lock: closing a broken connection may take a moment.
    lease.connection.reset();
    freed_.notify_one();
}

}  // namespace jobq::postgres_detail
