#pragma once
// The job-selection options list, dlq and dlq replay share, read into a JobFilter.

#include <vector>

#include "../args.hpp"
#include "jobq/store.hpp"

namespace jobq::cli {

/// Listings show this many jobs unless --limit says otherwise: a screenful, not the
/// library's page size.
inline constexpr int default_list_limit = 50;

/// --queue, --kind, --tenant; with `paging`, also --limit and --before.
std::vector<OptionSpec> filter_options(bool paging);

/// The filter those options describe (states are left to the caller).
JobFilter read_filter(const ParsedArgs& args);

}  // namespace jobq::cli
