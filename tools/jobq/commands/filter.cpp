#include "filter.hpp"

namespace jobq::cli {

std::vector<OptionSpec> filter_options(bool paging) {
    std::vector<OptionSpec> options{
        {"--queue", "Q", "only jobs of this queue"},
        {"--kind", "K", "only jobs of this kind"},
        {"--tenant", "T", "only jobs of this tenant"},
    };
    if (paging) {
        // Only where jobs are listed: replaying "every job with tag T" is not a store operation.
        options.push_back({"--tag", "T", "only jobs carrying this tag"});
        options.push_back({"--limit", "N", "at most N jobs (default 50)"});
        options.push_back({"--before", "ID", "only jobs older than ID: the next page's cursor"});
    }
    return options;
}

JobFilter read_filter(const ParsedArgs& args) {
    JobFilter filter;
    filter.queue = args.value("--queue").value_or("");
    filter.kind = args.value("--kind").value_or("");
    filter.tenant = args.value("--tenant").value_or("");
    filter.tag = args.value("--tag").value_or("");
    filter.limit = default_list_limit;
    if (auto limit = args.value("--limit")) filter.limit = parse_positive_int(*limit, "--limit");
    if (auto before = args.value("--before")) filter.before_id = parse_job_id(*before, "--before");
    return filter;
}

}  // namespace jobq::cli
