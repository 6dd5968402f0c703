#pragma once
// The job-selection options list, dlq and dlq replay share, read into a JobFilter.

#include <array>
#include <vector>

#include "../args.hpp"
#include "../option_terms.hpp"
#include "jobq/backend/store.hpp"

namespace jobq::cli {

/// JobFilter's fields and the options that set them: the library checks the names (a filter
/// value no job can carry is refused), the CLI reports them by option.
inline constexpr std::array<FieldOption, 4> filter_fields{{
    {"queue", "--queue"},
    {"kind", "--kind"},
    {"tenant", "--tenant"},
    {"tag", "--tag"},
}};

/// Listings show this many jobs unless --limit says otherwise: a screenful, not the
/// library's page size.
inline constexpr int default_list_limit = 50;

/// --queue, --kind, --tenant; with `paging`, also --limit and --before.
std::vector<OptionSpec> filter_options(bool paging);

/// The filter those options describe (states are left to the caller).
JobFilter read_filter(const ParsedArgs& args);

}  // namespace jobq::cli
