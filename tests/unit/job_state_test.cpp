// Job states: their stored names and which of them are terminal.

#include <string>

#include <doctest/doctest.h>

#include "jobq/job_state.hpp"

using jobq::JobState;

TEST_SUITE_BEGIN("JobState");

TEST_CASE("every state's name parses back to the state") {
    for (JobState s : jobq::all_job_states) {
        INFO(std::string(to_string(s)));
        CHECK(jobq::parse_job_state(to_string(s)) == s);
    }
}

TEST_CASE("states are named as they are stored") {
    CHECK(to_string(JobState::pending) == "pending");
    CHECK(to_string(JobState::scheduled) == "scheduled");
    CHECK(to_string(JobState::available) == "available");
    CHECK(to_string(JobState::running) == "running");
    CHECK(to_string(JobState::retryable) == "retryable");
    CHECK(to_string(JobState::completed) == "completed");
    CHECK(to_string(JobState::cancelled) == "cancelled");
    CHECK(to_string(JobState::discarded) == "discarded");
}

TEST_CASE("a name of no state does not parse") {
    CHECK_FALSE(jobq::parse_job_state("").has_value());
    CHECK_FALSE(jobq::parse_job_state("Available").has_value());
    CHECK_FALSE(jobq::parse_job_state("done").has_value());
    CHECK_FALSE(jobq::parse_job_state("available ").has_value());
}

TEST_CASE("only completed, cancelled and discarded are terminal") {
    for (JobState s : jobq::all_job_states) {
        INFO(std::string(to_string(s)));
        const bool expected =
            s == JobState::completed || s == JobState::cancelled || s == JobState::discarded;
        CHECK(jobq::is_terminal(s) == expected);
    }
}

TEST_SUITE_END();
