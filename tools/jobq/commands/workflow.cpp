// workflow and batch: jobs enqueued together from a JSON file — a workflow's jobs wait for
// the jobs they name (add, append), a batch's run independently and fire callbacks — and the
// operator's view of them (show, list) and actions on them (cancel, retry). A batch is a kind
// of workflow to the library, so show, list, cancel and retry under `workflow` take both.

#include <array>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "../commands.hpp"
#include "../option_terms.hpp"
#include "../output.hpp"
#include "../workflow_view.hpp"
#include "filter.hpp"
#include "job_options.hpp"
#include "jobq/batch_spec.hpp"
#include "jobq/error.hpp"
#include "jobq/input_limits.hpp"
#include "jobq/json_input.hpp"
#include "jobq/workflow_record.hpp"
#include "jobq/workflow_spec.hpp"

namespace jobq::cli {

namespace {

constexpr std::string_view workflow_subcommands = "add, append, show, list, cancel, retry";
constexpr std::string_view batch_subcommands = "add, show";

// WorkflowFilter's and retry_workflow's fields and the options that set them.
constexpr std::array<FieldOption, 3> option_of_field{{
    {"tenant", "--tenant"},
    {"limit", "--limit"},
    {"from", "--from"},
}};

std::string jobs_count(std::int64_t n) {
    return fmt::format("{} job{}", n, n == 1 ? "" : "s");
}

// The JSON document in FILE ('-' reads standard input), parsed as the library parses all
// outside JSON: a key given twice, a NUL or a number that overflows is refused with its place.
// `what` ("workflow", "batch") names the document in errors, as the library's own checks of it
// do. The size cap of a payload argument applies: far above what the limits let through, low
// enough that a stray pipe cannot exhaust memory.
nlohmann::json read_document(const std::string& file, std::string_view what) {
    const std::string text = payload_text(file == "-" ? file : "@" + file, what);
    // A payload's depth limit counts from the payload, which sits three levels down: the
    // document, its "jobs" array (or "callbacks" object), the job.
    return parse_json_input(text, what, InputLimits{}.max_json_depth + 3);
}

WorkflowRecord existing_workflow(Context& ctx, WorkflowId id) {
    std::optional<WorkflowRecord> workflow = ctx.queue().workflow(id);
    if (!workflow) {
        throw Error(ErrorCode::not_found, fmt::format("workflow {} does not exist", id), "id");
    }
    return std::move(*workflow);
}

// {"id": 7, "jobs": {"extract": 12, ...}}: the new jobs' ids by name, as a script looks them up.
void print_workflow_insert(Context& ctx, const WorkflowSpec& spec, const WorkflowInsert& insert,
                           bool appended) {
    if (ctx.json()) {
        nlohmann::json jobs = nlohmann::json::object();
        for (std::size_t i = 0; i < spec.jobs().size(); ++i) {
            jobs[spec.jobs()[i].name] = insert.job_ids.at(i);
        }
        print_json(ctx.out(), {{"id", insert.id}, {"jobs", std::move(jobs)}});
        return;
    }
    const auto n = static_cast<std::int64_t>(insert.job_ids.size());
    if (!appended) {
        // A workflow can have thousands of jobs: their ids are one `workflow show` away.
        ctx.out() << fmt::format("enqueued workflow {} with {}\n", insert.id, jobs_count(n));
        return;
    }
    ctx.out() << fmt::format("appended {} to workflow {}\n", jobs_count(n), insert.id);
    Table table({{"ID", Align::right}, {"NAME"}});
    for (std::size_t i = 0; i < spec.jobs().size(); ++i) {
        table.add_row({std::to_string(insert.job_ids.at(i)), spec.jobs()[i].name});
    }
    table.print(ctx.out());
}

void print_workflow(Context& ctx, const WorkflowRecord& workflow) {
    if (ctx.json()) {
        print_json(ctx.out(), to_json(workflow));
    } else {
        print_workflow_details(ctx.out(), workflow, system_clock().now());
    }
}

int run_workflow(Context&, const ParsedArgs& args) {
    if (args.positionals().empty()) {
        throw UsageError(
            fmt::format("missing workflow command (one of: {})", workflow_subcommands));
    }
    throw UsageError(fmt::format("unknown workflow command '{}' (one of: {})",
                                 args.positionals().front(), workflow_subcommands));
}

int run_workflow_add(Context& ctx, const ParsedArgs& args) {
    const WorkflowSpec spec =
        WorkflowSpec::from_json(read_document(args.positionals().at(0), "workflow"));
    print_workflow_insert(ctx, spec, ctx.queue().enqueue_workflow(spec), false);
    return 0;
}

int run_workflow_append(Context& ctx, const ParsedArgs& args) {
    const WorkflowId id = parse_workflow_id(args.positionals().at(0));
    nlohmann::json document = read_document(args.positionals().at(1), "workflow");
    if (document.is_object()) {
        // The library ignores an appended spec's deadline; a user who wrote one meant to
        // change it, and must hear that it did not.
        if (document.contains("deadline")) {
            throw Error(ErrorCode::invalid_argument,
                        "deadline: an append cannot change the workflow's deadline (leave it out)",
                        "deadline");
        }
        // Nor is the name used: an append file need not repeat it.
        if (!document.contains("name")) document["name"] = "append";
    }
    const WorkflowSpec spec = WorkflowSpec::from_json(document, {}, /*append=*/true);
    print_workflow_insert(ctx, spec, ctx.queue().append_workflow(id, spec), true);
    return 0;
}

int run_workflow_show(Context& ctx, const ParsedArgs& args) {
    const WorkflowId id = parse_workflow_id(args.positionals().at(0));
    print_workflow(ctx, existing_workflow(ctx, id));
    return 0;
}

WorkflowFilter read_workflow_filter(const ParsedArgs& args) {
    WorkflowFilter filter;
    if (auto state = args.value("--state")) {
        filter.state = parse_workflow_state(*state);
        if (!filter.state) {
            bad_value("--state",
                      fmt::format("unknown state '{}' (one of: running, completed, failed, "
                                  "cancelled)",
                                  *state));
        }
    }
    if (auto kind = args.value("--kind")) {
        if (*kind == to_string(WorkflowKind::workflow)) {
            filter.kind = WorkflowKind::workflow;
        } else if (*kind == to_string(WorkflowKind::batch)) {
            filter.kind = WorkflowKind::batch;
        } else {
            bad_value("--kind", fmt::format("unknown kind '{}' (one of: workflow, batch)", *kind));
        }
    }
    if (auto tenant = args.value("--tenant")) {
        // An unset variable in a script must not widen the list to every tenant.
        if (tenant->empty())
            bad_value("--tenant", "must not be empty (leave the option out for all)");
        filter.tenant = *tenant;
    }
    filter.limit = default_list_limit;
    if (auto limit = args.value("--limit")) filter.limit = parse_positive_int(*limit, "--limit");
    if (auto before = args.value("--before")) {
        filter.before_id = parse_workflow_id(*before, "--before");
    }
    return filter;
}

int run_workflow_list(Context& ctx, const ParsedArgs& args) {
    const WorkflowFilter filter = read_workflow_filter(args);
    const WorkflowPage page =
        in_option_terms(option_of_field, [&] { return ctx.queue().workflows(filter); });
    if (ctx.json()) {
        print_json(ctx.out(), workflow_page_to_json(page));
    } else {
        print_workflow_table(ctx.out(), page);
    }
    return 0;
}

int run_workflow_cancel(Context& ctx, const ParsedArgs& args) {
    const WorkflowId id = parse_workflow_id(args.positionals().at(0));
    const std::int64_t n = ctx.queue().cancel_workflow(id);
    if (ctx.json()) {
        print_json(ctx.out(), {{"id", id}, {"cancelled", n}});
    } else if (n == 0) {
        ctx.out() << fmt::format("workflow {}: no unfinished job to cancel\n", id);
    } else {
        ctx.out() << fmt::format("workflow {}: cancelled {}\n", id, jobs_count(n));
    }
    return 0;
}

int run_workflow_retry(Context& ctx, const ParsedArgs& args) {
    const WorkflowId id = parse_workflow_id(args.positionals().at(0));
    std::optional<JobId> from;
    if (auto job = args.value("--from")) from = parse_job_id(*job, "--from");
    const std::int64_t n =
        in_option_terms(option_of_field, [&] { return ctx.queue().retry_workflow(id, from); });
    if (ctx.json()) {
        print_json(ctx.out(), {{"id", id}, {"retried", n}});
    } else if (n == 0 && from) {
        // retry_workflow quietly does nothing from a job that did not fail.
        ctx.out() << fmt::format(
            "workflow {}: no job to run again from job {} (--from reruns a discarded or "
            "cancelled job and the failed jobs that wait on it)\n",
            id, *from);
    } else if (n == 0) {
        ctx.out() << fmt::format("workflow {}: no discarded or cancelled job to run again\n", id);
    } else {
        ctx.out() << fmt::format("workflow {}: {} will run again\n", id, jobs_count(n));
    }
    return 0;
}

int run_batch(Context&, const ParsedArgs& args) {
    if (args.positionals().empty()) {
        throw UsageError(fmt::format("missing batch command (one of: {})", batch_subcommands));
    }
    throw UsageError(fmt::format("unknown batch command '{}' (one of: {})",
                                 args.positionals().front(), batch_subcommands));
}

int run_batch_add(Context& ctx, const ParsedArgs& args) {
    const BatchSpec spec = BatchSpec::from_json(read_document(args.positionals().at(0), "batch"));
    const WorkflowInsert insert = ctx.queue().enqueue_batch(spec);
    if (ctx.json()) {
        // A batch's jobs have no names: their ids in the order of the file's "jobs".
        print_json(ctx.out(), {{"id", insert.id}, {"jobs", insert.job_ids}});
    } else {
        ctx.out() << fmt::format("enqueued batch {} with {}\n", insert.id,
                                 jobs_count(static_cast<std::int64_t>(insert.job_ids.size())));
    }
    return 0;
}

int run_batch_show(Context& ctx, const ParsedArgs& args) {
    const WorkflowId id = parse_workflow_id(args.positionals().at(0));
    const WorkflowRecord workflow = existing_workflow(ctx, id);
    // A script that asked for a batch reads callbacks; a workflow has none to give it.
    if (workflow.summary.kind != WorkflowKind::batch) {
        throw Error(ErrorCode::not_found,
                    fmt::format("batch {} does not exist: {} is a workflow (see 'jobq workflow "
                                "show {}')",
                                id, id, id),
                    "id");
    }
    print_workflow(ctx, workflow);
    return 0;
}

// The JSON forms, for the help of the commands that read them.
constexpr std::string_view workflow_form =
    "FILE holds the workflow as JSON ('-' reads standard input):\n"
    "  {\"name\": \"nightly-report\", \"deadline\": \"2026-11-24T06:00:00Z\",\n"
    "   \"jobs\": [{\"name\": \"extract\", \"kind\": \"report.extract\", \"payload\": {}},\n"
    "            {\"name\": \"load\", \"kind\": \"report.load\", \"deps\": [\"extract\"],\n"
    "             \"on_discarded\": \"cancel\", \"on_cancelled\": \"ignore\"}]}\n"
    "deadline, payload, deps and the policies are optional. A job also takes \"queue\",\n"
    "\"priority\", \"max_attempts\", \"delay_us\", \"run_at_us\", \"timeout_us\", \"tags\",\n"
    "\"tenant\" and \"retry_policy\", as the job's JSON form spells them (no \"unique_key\").\n"
    "on_discarded / on_cancelled: what the job does when a dependency ends that way:\n"
    "\"cancel\" (the default) cancels it and what waits on it, \"ignore\" runs it anyway.";

}  // namespace

Command workflow_command() {
    return {
        .name = "workflow",
        .synopsis = "COMMAND [ARGS...]",
        .summary = "Workflows: jobs that wait for the jobs they depend on",
        .details =
            "Commands: add, append, show, list, cancel, retry. 'jobq workflow COMMAND --help'\n"
            "describes one. show, list, cancel and retry take batches ('jobq batch') too.",
        .positionals = {{"COMMAND", false}},
        .options = {},
        .run = run_workflow,
    };
}

Command workflow_add_command() {
    // Command holds views: the text must outlive every Command made from it.
    static const std::string details = fmt::format(
        "{}\n"
        "All of its jobs are stored in one transaction, or none when any is refused.\n"
        "A job waits in state pending until every job it depends on has completed.\n"
        "--json prints {{\"id\": N, \"jobs\": {{NAME: JOB_ID, ...}}}}.",
        workflow_form);
    return {
        .name = "workflow add",
        .synopsis = "FILE",
        .summary = "Enqueue a workflow from a JSON file; print its id",
        .details = details,
        .positionals = {{"FILE"}},
        .options = {},
        .run = run_workflow_add,
    };
}

Command workflow_append_command() {
    return {
        .name = "workflow append",
        .synopsis = "ID FILE",
        .summary = "Add jobs to a workflow; print their ids",
        .details =
            "FILE has the form 'jobq workflow add' reads, without a deadline; its name may\n"
            "be left out and is not used. deps may name the workflow's jobs as well as the\n"
            "new ones: a job that already completed counts as met. The new names must not\n"
            "repeat the workflow's. --json prints {\"id\": N, \"jobs\": {NAME: JOB_ID, ...}}.",
        .positionals = {{"ID"}, {"FILE"}},
        .options = {},
        .run = run_workflow_append,
    };
}

Command workflow_show_command() {
    return {
        .name = "workflow show",
        .synopsis = "ID",
        .summary = "Print a workflow or batch: its state and each job with what it waits for",
        .details =
            "Jobs are listed in the order they were added, each after the jobs it waits for\n"
            "(AFTER); a dependency whose failure does not cancel the job says what it ignores.\n"
            "A batch lists its callbacks and whether each has fired. --json adds every\n"
            "field of every job (as 'jobq show' prints them) and its dependencies' ids.",
        .positionals = {{"ID"}},
        .options = {},
        .run = run_workflow_show,
    };
}

Command workflow_list_command() {
    std::vector<OptionSpec> options{
        {"--state", "S", "only workflows in state S: running, completed, failed, cancelled"},
        {"--kind", "workflow|batch", "only workflows or only batches"},
        {"--tenant", "T", "only workflows of this tenant"},
        {"--limit", "N", "at most N workflows (default 50)"},
        {"--before", "ID", "only workflows older than ID: the next page's cursor"},
    };
    return {
        .name = "workflow list",
        .synopsis = "[options]",
        .summary = "List workflows and batches, newest first",
        .details =
            "A workflow is running while any of its jobs has not finished; then completed\n"
            "(every job completed), failed (a job was discarded) or cancelled. DONE counts\n"
            "the completed jobs of all. When more match than --limit, the last line gives\n"
            "the --before cursor of the next page.",
        .positionals = {},
        .options = std::move(options),
        .run = run_workflow_list,
    };
}

Command workflow_cancel_command() {
    return {
        .name = "workflow cancel",
        .synopsis = "ID",
        .summary = "Cancel every unfinished job of a workflow or batch; print how many",
        .details =
            "Running jobs' workers lose their leases, as with 'jobq cancel'. Completed jobs\n"
            "keep their results. The workflow ends cancelled.",
        .positionals = {{"ID"}},
        .options = {},
        .run = run_workflow_cancel,
    };
}

Command workflow_retry_command() {
    return {
        .name = "workflow retry",
        .synopsis = "ID [--from JOB_ID]",
        .summary = "Run a workflow's discarded and cancelled jobs again; print how many",
        .details =
            "Jobs cancelled because a dependency failed wait for it again. Completed jobs\n"
            "keep their results and do not run again. With --from, only JOB_ID (a discarded\n"
            "or cancelled job of the workflow) and the discarded or cancelled jobs that wait\n"
            "on it, directly or not. A job whose dependency stays discarded or cancelled\n"
            "(and does not ignore it) is left as it is: it would be cancelled again at once.",
        .positionals = {{"ID"}},
        .options = {{"--from", "JOB_ID", "rerun this job and what waits on it"}},
        .run = run_workflow_retry,
    };
}

Command batch_command() {
    return {
        .name = "batch",
        .synopsis = "COMMAND [ARGS...]",
        .summary = "Batches: independent jobs with callbacks when they are done",
        .details =
            "Commands: add, show. 'jobq batch COMMAND --help' describes one. A batch is\n"
            "listed, cancelled and retried with 'jobq workflow list|cancel|retry'.",
        .positionals = {{"COMMAND", false}},
        .options = {},
        .run = run_batch,
    };
}

Command batch_add_command() {
    return {
        .name = "batch add",
        .synopsis = "FILE",
        .summary = "Enqueue a batch from a JSON file; print its id",
        .details =
            "FILE holds the batch as JSON ('-' reads standard input):\n"
            "  {\"name\": \"exports\",\n"
            "   \"jobs\": [{\"kind\": \"export.one\", \"payload\": {\"n\": 1}}, ...],\n"
            "   \"callbacks\": {\"all_completed\": {\"kind\": \"report.build\"}}}\n"
            "Each job and callback takes the keys of a job's JSON form (see 'jobq workflow\n"
            "add --help'). Callbacks: all_completed (every job completed), any_discarded (the\n"
            "first discarded job), all_finished (every job finished, however it ended); each\n"
            "runs once, with \"batch\" (counts, failed ids) added to its payload. A batch\n"
            "without jobs fires all_completed and all_finished at once.\n"
            "--json prints {\"id\": N, \"jobs\": [JOB_ID, ...]} in the order of \"jobs\".",
        .positionals = {{"FILE"}},
        .options = {},
        .run = run_batch_add,
    };
}

Command batch_show_command() {
    return {
        .name = "batch show",
        .synopsis = "ID",
        .summary = "Print a batch: its state, its jobs and which callbacks fired",
        .details = "The same as 'jobq workflow show' for a batch; a workflow's id is refused.",
        .positionals = {{"ID"}},
        .options = {},
        .run = run_batch_show,
    };
}

}  // namespace jobq::cli
