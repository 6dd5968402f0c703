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

namespace {

// "--queue ''" (an unset variable in a script) must not mean "every queue": with dlq replay
// --all that would replay the whole dead-letter queue.
std::string filter_value(const ParsedArgs& args, std::string_view option) {
    std::optional<std::string> value = args.value(option);
    if (!value) return {};
    if (value->empty()) bad_value(option, "must not be empty (leave the option out for all)");
    return std::move(*value);
}

}  // namespace

JobFilter read_filter(const ParsedArgs& args) {
    JobFilter filter;
    filter.queue = filter_value(args, "--queue");
    filter.kind = filter_value(args, "--kind");
    filter.tenant = filter_value(args, "--tenant");
    filter.tag = filter_value(args, "--tag");
    filter.limit = default_list_limit;
    if (auto limit = args.value("--limit")) filter.limit = parse_positive_int(*limit, "--limit");
    if (auto before = args.value("--before")) filter.before_id = parse_job_id(*before, "--before");
    return filter;
}

}  // namespace jobq::cli
