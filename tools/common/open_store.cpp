#include "common/open_store.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "jobq/error.hpp"

namespace jobq::tools {

namespace {

constexpr std::string_view accepted_forms =
    "use a file path, sqlite:PATH, sqlite:///ABSOLUTE/PATH or postgresql://...";

[[noreturn]] void bad_url(std::string_view url, std::string_view why) {
    throw Error(ErrorCode::invalid_argument, fmt::format("database '{}': {}", url, why),
                "database");
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// RFC 3986 scheme: a letter, then letters, digits, '+', '-' or '.'.
bool is_scheme(std::string_view s) {
    if (s.empty() || !std::isalpha(static_cast<unsigned char>(s.front()))) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '+' || c == '-' || c == '.';
    });
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// URLs cannot carry every byte of a file name literally (spaces, '?', '%'), so their paths are
// percent-encoded; plain paths are taken as they are.
std::string percent_decode(std::string_view url, std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
        const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            bad_url(url, "a '%' in a URL must be followed by two hex digits (write %25 for '%')");
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

void apply_sqlite_query(std::string_view url, std::string_view query, SqliteOptions& options) {
    bool durability_seen = false;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (item.empty()) continue;
        const std::size_t eq = item.find('=');
        const std::string_view key = item.substr(0, eq);
        const std::string_view value =
            eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
        if (key != "durability") {
            bad_url(url, fmt::format("unknown option '{}' (sqlite URLs accept: durability)", key));
        }
        if (durability_seen) bad_url(url, "option 'durability' is given twice");
        durability_seen = true;
        if (value == "full") {
            options.durability = SqliteDurability::full;
        } else if (value == "normal") {
            options.durability = SqliteDurability::normal;
        } else {
            bad_url(url, fmt::format("durability: expected 'full' or 'normal' (got '{}')", value));
        }
    }
}

StoreLocation parse_sqlite_url(const std::string& url, std::string_view rest) {
    StoreLocation location;
    location.backend = Backend::sqlite;
    location.url = url;
    const std::size_t question = rest.find('?');
    std::string_view path = rest.substr(0, question);
    if (question != std::string_view::npos) {
        apply_sqlite_query(url, rest.substr(question + 1), location.sqlite_options);
    }
    if (path.starts_with("//")) {
        // "sqlite://HOST/PATH": a file lives on no host, so only the empty host of
        // sqlite:///abs/path makes sense; "sqlite://jobs.db" is almost always a typo.
        const std::size_t slash = path.find('/', 2);
        const std::string_view host =
            path.substr(2, slash == std::string_view::npos ? std::string_view::npos : slash - 2);
        if (!host.empty()) {
            bad_url(url, fmt::format("a sqlite URL has no host (got '{}'); write sqlite:{} for a "
                                     "relative path or sqlite:///ABSOLUTE/PATH",
                                     host, path.substr(2)));
        }
        path = path.substr(2);
    }
    location.sqlite_path = percent_decode(url, path);
    if (location.sqlite_path.empty()) bad_url(url, "the sqlite URL names no file");
    return location;
}

}  // namespace

std::string default_database_url() {
    const char* env = std::getenv(database_url_env);
    if (env != nullptr && *env != '\0') return env;
    return "./jobq.db";
}

StoreLocation parse_store_url(const std::string& url_or_path) {
    if (url_or_path.empty()) {
        throw Error(ErrorCode::invalid_argument, "database: the path or URL is empty", "database");
    }
    const std::size_t colon = url_or_path.find(':');
    const std::string scheme =
        colon == std::string::npos ? std::string{} : lower(url_or_path.substr(0, colon));
    if (scheme == "sqlite") {
        return parse_sqlite_url(url_or_path, std::string_view(url_or_path).substr(colon + 1));
    }
    if (scheme == "postgresql" || scheme == "postgres") {
        StoreLocation location;
        location.backend = Backend::postgres;
        location.url = url_or_path;
        return location;
    }
    // A colon is legal in a file name ("jobs:v2.db"), so only "scheme://" is taken for a URL of
    // a kind we do not know.
    if (is_scheme(scheme) && std::string_view(url_or_path).substr(colon).starts_with("://")) {
        bad_url(url_or_path, fmt::format("unknown scheme '{}' ({})", scheme, accepted_forms));
    }
    StoreLocation location;
    location.backend = Backend::sqlite;
    location.url = url_or_path;
    location.sqlite_path = url_or_path;
    return location;
}

std::unique_ptr<Store> open_store(const StoreLocation& location) {
    switch (location.backend) {
        case Backend::sqlite:
            return std::make_unique<SqliteStore>(location.sqlite_path, location.sqlite_options);
        case Backend::postgres:
            throw Error(ErrorCode::invalid_argument,
                        "PostgreSQL backend is not built in this version", "database");
    }
    throw Error(ErrorCode::invalid_argument, "database: unknown backend", "database");
}

std::unique_ptr<Store> open_store(const std::string& url_or_path) {
    return open_store(parse_store_url(url_or_path));
}

}  // namespace jobq::tools
