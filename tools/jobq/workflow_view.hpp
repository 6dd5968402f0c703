#pragma once
// Text and JSON renderings of workflows and batches, shared by the `workflow` and `batch`
// commands.

#include <ostream>

#include <nlohmann/json.hpp>

#include "jobq/clock.hpp"
#include "jobq/workflow_record.hpp"

namespace jobq::cli {

/// The workflow's fields one per line, then its jobs as a table in insertion order, each with
/// the names of the jobs it waits for; a batch's callbacks and whether each fired.
void print_workflow_details(std::ostream& out, const WorkflowRecord& workflow, Timestamp now);

/// A page as a table (ID, KIND, STATE, DONE, CREATED AT, NAME), then a hint naming the
/// --before cursor of the next page when there is one.
void print_workflow_table(std::ostream& out, const WorkflowPage& page);

/// {"workflows": [...], "next_before_id": N or null}.
nlohmann::json workflow_page_to_json(const WorkflowPage& page);

}  // namespace jobq::cli
