#include "common/open_store.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "common/flag_value.hpp"
#include "jobq/error.hpp"

namespace jobq::tools {

namespace {

constexpr std::string_view accepted_forms =
    "use a file path, sqlite:PATH, sqlite:///ABSOLUTE/PATH or postgresql://...";

constexpr std::string_view redacted = "***";

// `url` must already be safe to print (see redact_password).
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

// URLs cannot carry every byte literally (spaces, '?', '%'), so their parts are
// percent-encoded; plain paths are taken as they are. `url` is for the message.
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
        if (hi == 0 && lo == 0) {
            // A C string ends at a NUL: "a%00b.db" would open "a".
            bad_url(url, "%00 (a NUL byte) cannot appear in a path or option");
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

// Percent-decoding for redaction only, where a bad escape must not throw: left as written.
std::string lenient_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const int hi = text[i] == '%' && i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
        const int lo = hi >= 0 && i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
        if (lo < 0) {
            out += text[i];
            continue;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

// The parts of "scheme://[userinfo@]rest[?query]", split as libpq splits a connection URI:
// the user information ends at the first '@' that comes before any '/', so a password may
// hold '?' or ':' literally; the query starts at the first '?' after it.
struct UrlParts {
    std::string_view prefix;    // "scheme://"
    std::string_view userinfo;  // "user[:password]", without the '@'; empty if absent
    bool has_userinfo = false;
    std::string_view rest;   // host, port and path
    std::string_view query;  // without the '?'
    bool has_query = false;
};

// Splits `url` if it has the form scheme://...; otherwise returns nothing.
std::optional<UrlParts> split_url(std::string_view url) {
    const std::size_t colon = url.find(':');
    if (colon == std::string_view::npos || !is_scheme(url.substr(0, colon)) ||
        !url.substr(colon).starts_with("://")) {
        return std::nullopt;
    }
    UrlParts parts;
    parts.prefix = url.substr(0, colon + 3);
    std::string_view body = url.substr(colon + 3);
    const std::size_t at = body.find_first_of("@/");
    if (at != std::string_view::npos && body[at] == '@') {
        parts.userinfo = body.substr(0, at);
        parts.has_userinfo = true;
        body = body.substr(at + 1);
    }
    const std::size_t question = body.find('?');
    parts.rest = body.substr(0, question);
    if (question != std::string_view::npos) {
        parts.query = body.substr(question + 1);
        parts.has_query = true;
    }
    return parts;
}

// Calls f(key as written, value as written, has '=') for each '&'-separated query item.
template <class F>
void for_each_query_item(std::string_view query, F f) {
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (item.empty()) continue;
        const std::size_t eq = item.find('=');
        f(item.substr(0, eq),
          eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1),
          eq != std::string_view::npos);
    }
}

// `url` with the password of its user information and the value of any password= query
// parameter replaced by "***": what messages and the tools' output may show.
std::string redact_password(std::string_view url) {
    const std::optional<UrlParts> parts = split_url(url);
    if (!parts) return std::string(url);
    std::string out(parts->prefix);
    if (parts->has_userinfo) {
        const std::size_t colon = parts->userinfo.find(':');
        out += parts->userinfo.substr(0, colon);
        if (colon != std::string_view::npos) {
            out += ':';
            out += redacted;
        }
        out += '@';
    }
    out += parts->rest;
    if (parts->has_query) {
        out += '?';
        bool first = true;
        for_each_query_item(parts->query,
                            [&](std::string_view key, std::string_view value, bool has_eq) {
                                if (!first) out += '&';
                                first = false;
                                out += key;
                                if (has_eq) out += '=';
                                out += lenient_decode(key) == "password" ? redacted : value;
                            });
    }
    return out;
}

// PostgresOptions::schema: a plain lower-case SQL identifier, so it is never quoted.
bool is_schema_name(std::string_view s) {
    if (s.empty() || s.size() > 63) return false;
    if (!(std::islower(static_cast<unsigned char>(s.front())) || s.front() == '_')) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

StoreLocation parse_postgres_url(const std::string& url) {
    const std::string shown = redact_password(url);
    const std::optional<UrlParts> parts = split_url(url);
    if (!parts) {
        bad_url(shown, "a PostgreSQL URL starts with postgresql:// or postgres://");
    }
    StoreLocation location;
    location.backend = Backend::postgres;
    location.url = shown;

    // jobq's own parameters are taken out; libpq would reject them as unknown. The rest are
    // libpq's and go on exactly as written.
    std::string libpq_query;
    bool pool_size_seen = false;
    for_each_query_item(parts->query, [&](std::string_view raw_key, std::string_view raw_value,
                                          bool has_eq) {
        const std::string key = percent_decode(shown, raw_key);
        if (key != "schema" && key != "pool_size") {
            if (!libpq_query.empty()) libpq_query += '&';
            libpq_query += raw_key;
            if (has_eq) libpq_query += '=';
            libpq_query += raw_value;
            return;
        }
        const std::string value = percent_decode(shown, raw_value);
        if (key == "schema") {
            if (location.postgres_schema_given) bad_url(shown, "option 'schema' is given twice");
            location.postgres_schema_given = true;
            if (!is_schema_name(value)) {
                bad_url(shown, fmt::format("schema: expected a lower-case SQL identifier "
                                           "([a-z_][a-z0-9_]*, at most 63 characters), got '{}'",
                                           value));
            }
            location.postgres_options.schema = value;
        } else {
            if (pool_size_seen) bad_url(shown, "option 'pool_size' is given twice");
            pool_size_seen = true;
            try {
                location.postgres_options.pool_size =
                    static_cast<int>(parse_integer_flag("pool_size", value, 1));
            } catch (const BadArgs& e) {
                bad_url(shown, e.what());
            }
        }
    });

    // libpq knows the scheme only in lower case.
    location.postgres_conninfo = "postgresql://";
    if (parts->has_userinfo) {
        location.postgres_conninfo += parts->userinfo;
        location.postgres_conninfo += '@';
    }
    location.postgres_conninfo += parts->rest;
    if (!libpq_query.empty()) location.postgres_conninfo += '?' + libpq_query;
    return location;
}

void apply_sqlite_query(std::string_view url, std::string_view query, SqliteOptions& options) {
    bool durability_seen = false;
    bool mode_seen = false;
    for_each_query_item(query, [&](std::string_view key, std::string_view value, bool) {
        bool& seen = key == "durability" ? durability_seen : mode_seen;
        if (key != "durability" && key != "mode") {
            bad_url(url,
                    fmt::format("unknown option '{}' (sqlite URLs accept: durability, mode)", key));
        }
        if (seen) bad_url(url, fmt::format("option '{}' is given twice", key));
        seen = true;
        if (key == "mode") {
            if (value == "rw") {
                options.access = SqliteAccess::read_write;
            } else if (value == "ro") {
                options.access = SqliteAccess::read_only;
            } else if (value == "auto") {
                options.access = SqliteAccess::automatic;
            } else {
                bad_url(url, fmt::format("mode: expected 'rw', 'ro' or 'auto' (got '{}')", value));
            }
        } else if (value == "full") {
            options.durability = SqliteDurability::full;
        } else if (value == "normal") {
            options.durability = SqliteDurability::normal;
        } else {
            bad_url(url, fmt::format("durability: expected 'full' or 'normal' (got '{}')", value));
        }
    });
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
    if (scheme == "postgresql" || scheme == "postgres") return parse_postgres_url(url_or_path);
    // A colon is legal in a file name ("jobs:v2.db"), so only "scheme://" is taken for a URL of
    // a kind we do not know.
    if (is_scheme(scheme) && std::string_view(url_or_path).substr(colon).starts_with("://")) {
        bad_url(redact_password(url_or_path),
                fmt::format("unknown scheme '{}' ({})", scheme, accepted_forms));
    }
    // "jobs.db?durability=full" means what "sqlite:jobs.db?durability=full" means: options
    // are parsed (and unknown ones refused), never kept as part of the file name.
    if (url_or_path.find('?') != std::string::npos) {
        try {
            return parse_sqlite_url(url_or_path, url_or_path);
        } catch (const Error& e) {
            throw Error(e.code(),
                        fmt::format("{} (a '?' in a path starts its options; a file name with "
                                    "'?' is written sqlite:NAME with %3F for the '?')",
                                    e.what()),
                        e.field());
        }
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
#ifdef JOBQ_TOOLS_HAVE_POSTGRES
            return std::make_unique<PostgresStore>(location.postgres_conninfo,
                                                   location.postgres_options);
#else
            throw Error(ErrorCode::invalid_argument,
                        "PostgreSQL backend is not built in this version", "database");
#endif
    }
    throw Error(ErrorCode::invalid_argument, "database: unknown backend", "database");
}

std::unique_ptr<Store> open_store(const std::string& url_or_path) {
    return open_store(parse_store_url(url_or_path));
}

}  // namespace jobq::tools
