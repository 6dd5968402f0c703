// cron: schedules that enqueue a job at each window of a cron expression — trying an
// expression out (next), and the Crontab of the store (list, add, update, pause, resume,
// remove, history).

#include <array>
#include <utility>

#include <fmt/format.h>

#include "../commands.hpp"
#include "../option_terms.hpp"
#include "../output.hpp"
#include "job_options.hpp"
#include "jobq/cron_expression.hpp"
#include "jobq/crontab.hpp"
#include "jobq/error.hpp"
#include "jobq/time_format.hpp"
#include "jobq/time_zone.hpp"

namespace jobq::cli {

namespace {

constexpr int default_next_count = 5;
// Enough to see a year of a daily schedule; more is a script's job, not a preview's.
constexpr int max_next_count = 1000;
constexpr int default_history_limit = 50;
// "2026-11-23": an ISO 8601 text longer than this has a time of day.
constexpr std::size_t iso_date_length = 10;

constexpr std::string_view cron_subcommands =
    "next, list, add, update, pause, resume, remove, history";

// MisfirePolicy::validate names its fields as the C++ API spells them; a CLI user typed options.
constexpr std::array<FieldOption, 3> option_of_misfire_field{{
    {"misfire.max_catch_up", "--max-catch-up"},
    {"misfire.max_age", "--max-age"},
    {"misfire.grace", "--grace"},
}};

[[noreturn]] void no_schedule(std::string_view name) {
    throw Error(ErrorCode::not_found, fmt::format("no schedule named '{}'", name), "name");
}

std::string_view state_of(const ScheduleInfo& info) {
    return info.paused ? "paused" : "active";
}

std::string_view source_of(const ScheduleInfo& info) {
    return info.declared ? "declared" : "runtime";
}

// Fire times are shown in the schedule's own zone: that is the wall clock its expression reads.
std::string next_fire(const ScheduleInfo& info) {
    if (!info.next_fire_at) return "-";
    return TimeZone::locate(info.schedule.zone).format(*info.next_fire_at);
}

std::int64_t milliseconds_of(Duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string misfire_summary(const MisfirePolicy& p) {
    if (p.mode == MisfireMode::catch_up) {
        return fmt::format("{} (max catch-up {}, max age {}, grace {})", to_string(p.mode),
                           p.max_catch_up, format_duration(p.max_age), format_duration(p.grace));
    }
    return fmt::format("{} (grace {})", to_string(p.mode), format_duration(p.grace));
}

// The job options that differ from their defaults, as the user would have typed them.
std::string job_options_summary(const JobSpec& job) {
    std::vector<std::string> parts;
    if (job.priority() != 0) parts.push_back(fmt::format("priority {}", job.priority()));
    if (job.max_attempts() != default_max_attempts) {
        parts.push_back(fmt::format("max attempts {}", job.max_attempts()));
    }
    if (job.timeout()) parts.push_back(fmt::format("timeout {}", format_duration(*job.timeout())));
    if (!job.unique_key().empty()) parts.push_back(fmt::format("unique key {}", job.unique_key()));
    if (!job.tenant().empty()) parts.push_back(fmt::format("tenant {}", job.tenant()));
    if (!job.tags().empty()) parts.push_back(fmt::format("tags {}", fmt::join(job.tags(), ", ")));
    return parts.empty() ? "-" : fmt::format("{}", fmt::join(parts, ", "));
}

nlohmann::json schedule_to_json(const ScheduleInfo& info) {
    const CronSchedule& s = info.schedule;
    nlohmann::json misfire = nlohmann::json::object();
    misfire["mode"] = to_string(s.misfire.mode);
    misfire["max_catch_up"] = s.misfire.max_catch_up;
    misfire["max_age_ms"] = milliseconds_of(s.misfire.max_age);
    misfire["grace_ms"] = milliseconds_of(s.misfire.grace);
    nlohmann::json j = nlohmann::json::object();
    j["name"] = s.name;
    j["expression"] = s.expression;
    j["zone"] = s.zone;
    j["state"] = state_of(info);
    j["source"] = source_of(info);
    j["next_fire_at"] = info.next_fire_at ? nlohmann::json(next_fire(info)) : nullptr;
    j["kind"] = s.job.kind();
    j["queue"] = s.job.queue();
    j["misfire"] = std::move(misfire);
    j["job"] = s.job.to_json();
    j["created_at"] = format_timestamp(info.created_at);
    j["updated_at"] = format_timestamp(info.updated_at);
    return j;
}

void print_schedule_details(std::ostream& out, const ScheduleInfo& info) {
    const CronSchedule& s = info.schedule;
    auto field = [&](std::string_view name, std::string_view value) {
        out << fmt::format("{:<15}{}\n", name, value);
    };
    field("name", s.name);
    field("expression", s.expression);
    field("zone", s.zone);
    field("state", state_of(info));
    field("source", source_of(info));
    field("kind", s.job.kind());
    field("queue", s.job.queue());
    field("payload",
          s.job.payload().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    field("job options", job_options_summary(s.job));
    field("misfire", misfire_summary(s.misfire));
    field("next fire", next_fire(info));
}

// An added, updated, paused or resumed schedule: the whole schedule for scripts, one line (and
// for a new definition the details) for people.
void print_result(Context& ctx, const ScheduleInfo& info, const std::string& what,
                  bool with_details) {
    if (ctx.json()) {
        print_json(ctx.out(), schedule_to_json(info));
        return;
    }
    ctx.out() << what << '\n';
    if (with_details) print_schedule_details(ctx.out(), info);
}

Crontab crontab_of(Context& ctx) {
    return Crontab(ctx.queue().store());
}

// ---- cron next ------------------------------------------------------------------------------

// Whether an ISO 8601 text ends in Z or an offset; the date part's dashes do not count.
bool names_its_offset(std::string_view text) {
    return text.size() > iso_date_length &&
           text.find_first_of("Zz+-", iso_date_length) != std::string_view::npos;
}

// With Z or an offset --from is an instant; without one it is what an operator reads off the
// schedule's wall clock, so it is read in --tz (a time in a DST gap or overlap as cron does).
Timestamp read_from(const std::string& text, const TimeZone& zone) {
    if (names_its_offset(text)) return parse_timestamp(text, "--from");
    // parse_timestamp insists on a zone after a time of day; "Z" makes its result the wall
    // clock's reading counted as if it were UTC. A date alone already reads that way.
    const std::string as_utc = text.size() > iso_date_length ? text + "Z" : text;
    Timestamp reading;
    try {
        reading = parse_timestamp(as_utc, "--from");
    } catch (const Error& e) {
        // Quote what the user typed, not the text with our "Z".
        std::string message = e.what();
        const std::string quoted = fmt::format("'{}'", as_utc);
        if (const std::size_t at = message.find(quoted); at != std::string::npos) {
            message.replace(at, quoted.size(), fmt::format("'{}'", text));
        }
        throw Error(e.code(), message, e.field());
    }
    const auto whole = std::chrono::floor<std::chrono::seconds>(reading);
    return zone.to_instant(LocalSeconds{whole.time_since_epoch()}) + (reading - whole);
}

int read_count(const ParsedArgs& args) {
    const std::optional<std::string> text = args.value("--count");
    if (!text) return default_next_count;
    const int n = parse_int(*text, "--count");
    if (n < 1 || n > max_next_count) {
        bad_value("--count", fmt::format("must be between 1 and {} (got {})", max_next_count, n));
    }
    return n;
}

int run_next(Context& ctx, const ParsedArgs& args) {
    const CronExpression expression = CronExpression::parse(args.positionals().at(0));
    const TimeZone zone = TimeZone::locate(args.value("--tz").value_or("UTC"), "--tz");
    const int count = read_count(args);
    const std::optional<std::string> from_text = args.value("--from");
    const Timestamp from = from_text ? read_from(*from_text, zone) : system_clock().now();

    // A job's run time ends with year 9999, and so does RFC 3339's four-digit year: fire
    // times after it are not listed (so fewer than --count may be printed).
    const Timestamp last = parse_timestamp("9999-12-31T23:59:59.999999Z");
    std::vector<std::string> times;
    for (Timestamp t = from; static_cast<int>(times.size()) < count;) {
        t = expression.next_after(t, zone);
        if (t > last) break;
        times.push_back(zone.format(t));
    }
    if (ctx.json()) {
        print_json(ctx.out(), {{"expression", expression.text()},
                               {"zone", zone.name()},
                               {"from", zone.format(from)},
                               {"fire_times", times}});
    } else {
        for (const std::string& t : times) ctx.out() << t << '\n';
    }
    return 0;
}

// ---- cron add / update ----------------------------------------------------------------------

MisfirePolicy read_misfire(const ParsedArgs& args) {
    MisfirePolicy policy;
    if (auto mode = args.value("--misfire")) policy.mode = parse_misfire_mode(*mode, "--misfire");
    // Accepting them with another mode would store settings that never apply.
    if (policy.mode != MisfireMode::catch_up) {
        for (std::string_view option : {"--max-catch-up", "--max-age"}) {
            if (args.has(option)) {
                throw UsageError(fmt::format("{} applies to --misfire catch_up only", option));
            }
        }
    }
    if (auto n = args.value("--max-catch-up")) {
        policy.max_catch_up = parse_int(*n, "--max-catch-up");
    }
    if (auto age = args.value("--max-age")) policy.max_age = parse_duration(*age, "--max-age");
    if (auto grace = args.value("--grace")) policy.grace = parse_duration(*grace, "--grace");
    in_option_terms(option_of_misfire_field, [&] { policy.validate(); });
    return policy;
}

// Every part is checked on its own first, so that an error names the option the user typed;
// nothing touches the database before the whole definition is valid.
CronSchedule read_schedule(const ParsedArgs& args) {
    const auto& positionals = args.positionals();
    const std::string& name = positionals.at(0);
    const std::string& expression = positionals.at(1);
    // The parser's own message names the cron field, the position and the reason.
    (void)CronExpression::parse(expression);
    const std::string zone = args.value("--tz").value_or("UTC");
    (void)TimeZone::locate(zone, "--tz");
    JobSpec job(positionals.at(2),
                parse_payload(payload_text(args.value("--payload").value_or("{}"), "--payload"),
                              "--payload"));
    apply_job_options(job, args);
    validate_in_option_terms(job);
    CronSchedule schedule{name, expression, std::move(job), zone, read_misfire(args)};
    try {
        schedule.validate();
    } catch (const Error& e) {
        // What is left to fail is the name ("schedule 'NAME': name: ...") and the payload's
        // size against the queue's limit ("schedule 'NAME': job.payload: ...").
        const std::string message = e.what();
        for (const auto& [field, option] :
             {std::pair{"name", "NAME"}, {"job.payload", "--payload"}}) {
            const std::string prefix = fmt::format("schedule '{}': {}", name, field);
            if (e.field() == field && message.starts_with(prefix)) {
                throw Error(e.code(), option + message.substr(prefix.size()),
                            field == std::string_view("name") ? e.field() : option);
            }
        }
        throw;
    }
    return schedule;
}

int run_add(Context& ctx, const ParsedArgs& args) {
    const CronSchedule schedule = read_schedule(args);
    const ScheduleInfo info = crontab_of(ctx).add(schedule);
    print_result(ctx, info, fmt::format("added schedule '{}'", info.schedule.name), true);
    return 0;
}

int run_update(Context& ctx, const ParsedArgs& args) {
    const CronSchedule schedule = read_schedule(args);
    const ScheduleInfo info = crontab_of(ctx).update(schedule);
    print_result(ctx, info, fmt::format("updated schedule '{}'", info.schedule.name), true);
    return 0;
}

// ---- cron list, pause, resume, remove -------------------------------------------------------

int run_list(Context& ctx, const ParsedArgs&) {
    const std::vector<ScheduleInfo> schedules = crontab_of(ctx).list();
    if (ctx.json()) {
        nlohmann::json all = nlohmann::json::array();
        for (const ScheduleInfo& info : schedules) all.push_back(schedule_to_json(info));
        print_json_list(ctx.out(), "schedules", std::move(all));
        return 0;
    }
    if (schedules.empty()) {
        ctx.out() << "no schedules\n";
        return 0;
    }
    Table table({{"NAME"},
                 {"EXPRESSION"},
                 {"ZONE"},
                 {"STATE"},
                 {"SOURCE"},
                 {"NEXT FIRE"},
                 {"KIND"},
                 {"QUEUE"},
                 {"MISFIRE"}});
    for (const ScheduleInfo& info : schedules) {
        const CronSchedule& s = info.schedule;
        table.add_row({s.name, s.expression, s.zone, std::string(state_of(info)),
                       std::string(source_of(info)), next_fire(info), s.job.kind(), s.job.queue(),
                       std::string(to_string(s.misfire.mode))});
    }
    table.print(ctx.out());
    return 0;
}

// The schedule before a change: pause and resume are idempotent in the library, and saying
// which case it was tells the operator whether the command changed anything; remove warns
// about a declared schedule coming back.
ScheduleInfo existing(Crontab& crontab, const std::string& name) {
    std::optional<ScheduleInfo> info = crontab.get(name);
    if (!info) no_schedule(name);
    return std::move(*info);
}

int run_pause(Context& ctx, const ParsedArgs& args) {
    const std::string& name = args.positionals().at(0);
    Crontab crontab = crontab_of(ctx);
    const bool was_paused = existing(crontab, name).paused;
    const ScheduleInfo info = crontab.pause(name);
    print_result(ctx, info,
                 was_paused ? fmt::format("schedule '{}' is already paused", name)
                            : fmt::format("paused schedule '{}'", name),
                 false);
    return 0;
}

int run_resume(Context& ctx, const ParsedArgs& args) {
    const std::string& name = args.positionals().at(0);
    Crontab crontab = crontab_of(ctx);
    const bool was_paused = existing(crontab, name).paused;
    const ScheduleInfo info = crontab.resume(name);
    print_result(ctx, info,
                 fmt::format("{}; next fire {}",
                             was_paused ? fmt::format("resumed schedule '{}'", name)
                                        : fmt::format("schedule '{}' is not paused", name),
                             next_fire(info)),
                 false);
    return 0;
}

int run_remove(Context& ctx, const ParsedArgs& args) {
    const std::string& name = args.positionals().at(0);
    Crontab crontab = crontab_of(ctx);
    const bool declared = existing(crontab, name).declared;
    crontab.remove(name);
    if (ctx.json()) {
        print_json(ctx.out(), {{"name", name}, {"removed", true}, {"declared", declared}});
    } else if (declared) {
        // The store forgets it, but the code that declared it does not.
        ctx.out() << fmt::format(
            "removed schedule '{}' and its history; it is declared in code, so a scheduler "
            "that declares it adds it again when it starts\n",
            name);
    } else {
        ctx.out() << fmt::format("removed schedule '{}' and its history\n", name);
    }
    return 0;
}

// ---- cron history ---------------------------------------------------------------------------

nlohmann::json run_to_json(const ScheduleRun& run, const TimeZone& zone) {
    const bool enqueued = run.outcome == WindowOutcome::enqueued;
    nlohmann::json j = nlohmann::json::object();
    j["fire_at"] = zone.format(run.fire_at);
    j["last_fire_at"] = zone.format(enqueued ? run.fire_at : run.last_fire_at);
    j["count"] = enqueued ? 1 : run.count;
    j["outcome"] = enqueued ? "enqueued" : "skipped";
    j["job_id"] = run.job_id ? nlohmann::json(*run.job_id) : nullptr;
    j["reason"] = enqueued ? nullptr : nlohmann::json(run.reason);
    j["recorded_at"] = format_timestamp(run.recorded_at);
    return j;
}

int run_history(Context& ctx, const ParsedArgs& args) {
    const std::string& name = args.positionals().at(0);
    int limit = default_history_limit;
    if (auto text = args.value("--limit")) limit = parse_positive_int(*text, "--limit");
    Crontab crontab = crontab_of(ctx);
    const TimeZone zone = TimeZone::locate(existing(crontab, name).schedule.zone);
    const std::vector<ScheduleRun> runs = crontab.history(name, limit);
    if (ctx.json()) {
        nlohmann::json all = nlohmann::json::array();
        for (const ScheduleRun& run : runs) all.push_back(run_to_json(run, zone));
        print_json_list(ctx.out(), "runs", std::move(all));
        return 0;
    }
    if (runs.empty()) {
        ctx.out() << fmt::format("schedule '{}' has no history yet\n", name);
        return 0;
    }
    Table table(
        {{"WINDOW"}, {"OUTCOME"}, {"COUNT", Align::right}, {"JOB", Align::right}, {"REASON"}});
    for (const ScheduleRun& run : runs) {
        if (run.outcome == WindowOutcome::enqueued) {
            table.add_row({zone.format(run.fire_at), "enqueued", "1",
                           run.job_id ? std::to_string(*run.job_id) : "-", "-"});
            continue;
        }
        // A run of skipped windows is one entry: its first and last window and how many.
        const std::string window =
            run.last_fire_at == run.fire_at
                ? zone.format(run.fire_at)
                : fmt::format("{}..{}", zone.format(run.fire_at), zone.format(run.last_fire_at));
        table.add_row({window, "skipped", std::to_string(run.count), "-",
                       run.reason.empty() ? "-" : one_line(run.reason, 80)});
    }
    table.print(ctx.out());
    return 0;
}

// ---- cron ------------------------------------------------------------------------------------

int run_cron(Context&, const ParsedArgs& args) {
    if (args.positionals().empty()) {
        throw UsageError(fmt::format("missing cron command (one of: {})", cron_subcommands));
    }
    throw UsageError(fmt::format("unknown cron command '{}' (one of: {})",
                                 args.positionals().front(), cron_subcommands));
}

std::vector<OptionSpec> schedule_options() {
    std::vector<OptionSpec> options{
        {"--payload", "JSON", "the job's payload, a JSON object (default {}; - or @FILE reads it)"},
    };
    for (OptionSpec& o : job_options()) options.push_back(o);
    const std::vector<OptionSpec> schedule_only{
        {"--tz", "ZONE", "IANA time zone EXPR reads wall-clock time in (default UTC)"},
        {"--misfire", "MODE",
         "windows missed while no scheduler ran: catch_up (the default:\n"
         "enqueue them, within --max-catch-up and --max-age), latest_only\n"
         "(only the newest, and only if none is on time) or skip"},
        {"--max-catch-up", "N", "catch_up: at most the newest N missed windows (default 100)"},
        {"--max-age", "DURATION", "catch_up: skip missed windows older than this (default 1d)"},
        {"--grace", "DURATION", "how late a window may be and still be on time (default 1m)"},
    };
    options.insert(options.end(), schedule_only.begin(), schedule_only.end());
    return options;
}

constexpr std::string_view add_details =
    "EXPR has 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds\n"
    "first, or is a macro such as @daily; quote it. Each window enqueues a job of KIND\n"
    "with the job options, run_at set to the window and the tag cron:NAME; the first\n"
    "window is the first fire time after now. Windows are read in --tz: a time skipped\n"
    "by a DST change fires at the end of the gap, a time that repeats fires once.\n"
    "Running schedulers pick the schedule up within a second.\n"
    "Durations: 500ms, 90s, 10m, 1h30m, 2d.";

}  // namespace

Command cron_command() {
    return {
        .name = "cron",
        .synopsis = "COMMAND [ARGS...]",
        .summary = "Schedules that enqueue a job at each window of a cron expression",
        .details =
            "Commands: next (try an expression out, no database needed), list, add,\n"
            "update, pause, resume, remove, history. 'jobq cron COMMAND --help' describes\n"
            "one. Schedules are fired by the schedulers (jobq::Scheduler) that run on the\n"
            "database; those declared in code show as source 'declared'.",
        .positionals = {{"COMMAND", false}},
        .options = {},
        .run = run_cron,
    };
}

Command cron_next_command() {
    return {
        .name = "cron next",
        .synopsis = "EXPR [--tz ZONE] [--from TIME] [--count N]",
        .summary = "Print the next fire times of a cron expression (no database needed)",
        .details =
            "EXPR has 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds\n"
            "first, or is a macro such as @daily; quote it. Times are printed in --tz with\n"
            "its offset. TIME is ISO 8601: with Z or an offset it is that instant\n"
            "(2026-11-23T10:07:00Z); without one it is a wall-clock time in --tz\n"
            "(2026-11-23T11:07). A time skipped by a DST change fires at the end of the gap;\n"
            "a time that repeats fires once, at its first occurrence.",
        .positionals = {{"EXPR"}},
        .options =
            {
                {"--tz", "ZONE", "IANA time zone to read EXPR in (default UTC)"},
                {"--from", "TIME", "print fire times strictly after TIME (default: now)"},
                {"--count", "N", "how many fire times, 1 to 1000 (default 5)"},
            },
        .run = run_next,
    };
}

Command cron_list_command() {
    return {
        .name = "cron list",
        .synopsis = "",
        .summary = "List the schedules with their state and next fire time",
        .details =
            "Next fire times are in each schedule's zone; a paused schedule has none.\n"
            "SOURCE is 'declared' for schedules declared in code on a scheduler, 'runtime'\n"
            "for those added with 'jobq cron add' or jobq::Crontab.",
        .positionals = {},
        .options = {},
        .run = run_list,
    };
}

Command cron_add_command() {
    return {
        .name = "cron add",
        .synopsis = "NAME EXPR KIND [options]",
        .summary = "Add a schedule that enqueues a job of KIND at each window of EXPR",
        .details = add_details,
        .positionals = {{"NAME"}, {"EXPR"}, {"KIND"}},
        .options = schedule_options(),
        .run = run_add,
    };
}

Command cron_update_command() {
    return {
        .name = "cron update",
        .synopsis = "NAME EXPR KIND [options]",
        .summary = "Replace the definition of a schedule added at run time",
        .details =
            "The whole definition is replaced: options not given take their defaults.\n"
            "Windows already handled stay handled. A schedule declared in code is changed\n"
            "in the code. EXPR, KIND and the options are as for 'jobq cron add'.",
        .positionals = {{"NAME"}, {"EXPR"}, {"KIND"}},
        .options = schedule_options(),
        .run = run_update,
    };
}

Command cron_pause_command() {
    return {
        .name = "cron pause",
        .synopsis = "NAME",
        .summary = "Stop firing a schedule until it is resumed",
        .details = "Declared schedules can be paused too; the pause survives scheduler restarts.",
        .positionals = {{"NAME"}},
        .options = {},
        .run = run_pause,
    };
}

Command cron_resume_command() {
    return {
        .name = "cron resume",
        .synopsis = "NAME",
        .summary = "Fire a paused schedule again from its next window",
        .details =
            "Windows that passed while it was paused are not caught up; 'jobq cron history'\n"
            "shows them as skipped.",
        .positionals = {{"NAME"}},
        .options = {},
        .run = run_resume,
    };
}

Command cron_remove_command() {
    return {
        .name = "cron remove",
        .synopsis = "NAME",
        .summary = "Delete a schedule and its history",
        .details =
            "Jobs it already enqueued stay. A schedule declared in code comes back when a\n"
            "scheduler that declares it starts: remove it from the code.",
        .positionals = {{"NAME"}},
        .options = {},
        .run = run_remove,
    };
}

Command cron_history_command() {
    return {
        .name = "cron history",
        .synopsis = "NAME [--limit N]",
        .summary = "Show a schedule's windows, newest first: enqueued jobs and skipped runs",
        .details =
            "Each enqueued window shows its job. Windows that were not enqueued (missed\n"
            "under the misfire policy, or passed while paused) show as one skipped run:\n"
            "its first and last window, how many, and why. Times are in the schedule's zone.",
        .positionals = {{"NAME"}},
        .options = {{"--limit", "N", "at most N entries (default 50)"}},
        .run = run_history,
    };
}

}  // namespace jobq::cli
