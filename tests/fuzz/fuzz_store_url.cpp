// Fuzzes parse_store_url, which reads --db and $JOBQ_DATABASE_URL. It opens nothing. Only
// jobq::Error may come out (anything else escapes and aborts the run), and what it accepts must
// hold together:
//   - the URL it keeps for messages never shows the password of a postgresql://user:pw@ URL;
//   - the libpq URL it builds parses again to itself (jobq's own parameters already taken out).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "common/open_store.hpp"
#include "jobq/error.hpp"

namespace {

[[noreturn]] void fail(const char* property, std::string_view input, std::string_view detail) {
    std::fprintf(stderr, "fuzz_store_url: %s\n  input: \"%.*s\"\n  got: \"%.*s\"\n", property,
                 static_cast<int>(input.size()), input.data(), static_cast<int>(detail.size()),
                 detail.data());
    __builtin_trap();
}

// The password of "scheme://user:password@...", split the way libpq splits it (the user
// information ends at the first '@' before any '/'); nullopt when the URL has none.
std::optional<std::string_view> password_of(std::string_view url) {
    const std::size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return std::nullopt;
    const std::string_view body = url.substr(scheme_end + 3);
    const std::size_t at = body.find_first_of("@/");
    if (at == std::string_view::npos || body[at] != '@') return std::nullopt;
    const std::string_view userinfo = body.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    return userinfo.substr(colon + 1);
}

void check_postgres(const jobq::tools::StoreLocation& location, std::string_view input) {
    if (password_of(input) && password_of(location.url) != "***") {
        fail("the URL for messages shows the password", input, location.url);
    }
    jobq::tools::StoreLocation again;
    try {
        again = jobq::tools::parse_store_url(location.postgres_conninfo);
    } catch (const jobq::Error& e) {
        fail("the libpq URL does not parse again", input, e.what());
    }
    if (again.postgres_conninfo != location.postgres_conninfo || again.postgres_schema_given) {
        fail("the libpq URL parses to another one", input, again.postgres_conninfo);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    try {
        const jobq::tools::StoreLocation location = jobq::tools::parse_store_url(input);
        if (location.backend == jobq::tools::Backend::postgres) {
            check_postgres(location, input);
        } else if (location.sqlite_path.empty()) {
            fail("a SQLite location names no file", input, location.url);
        }
    } catch (const jobq::Error&) {
    }
    return 0;
}
