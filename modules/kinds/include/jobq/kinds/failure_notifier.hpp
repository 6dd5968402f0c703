#pragma once
// FailureNotifier: tells a human when jobs fail for good (or keep failing), by webhook, Slack or
// e-mail — coalesced, so a storm of failures of one kind becomes one notice per window with a
// count and the first job ids, not thousands of messages.
//
// How: the worker reports each attempt (WorkerOptions::on_attempt). The first qualifying
// failure of a kind in a window enqueues one `jobq.notice` job, unique per channel, event, kind
// and window, due when the window closes. That job counts the window's failures in the store
// (every worker process's, not only this one's) and enqueues the delivery: a jobq.http job
// (webhook, Slack) or a jobq.email job. Notices and deliveries are jobs: durable and retried.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jobq/clock.hpp"
#include "jobq/queue.hpp"
#include "jobq/registry.hpp"
#include "jobq/worker.hpp"

namespace jobq::kinds {

/// The name notice jobs are registered and enqueued under.
inline constexpr std::string_view notice_kind = "jobq.notice";

/// Where notices go.
struct NotifyChannel {
    enum class Via { webhook, slack, email };
    Via via = Via::webhook;
    /// webhook, slack: the URL posted to (through jobq.http, with its address guard).
    std::string url;
    /// webhook: name of the worker's signing secret (Standard Webhooks); empty: unsigned.
    std::string signing_secret;
    /// email: the recipients (through jobq.email; the sender is the e-mail kind's default).
    std::vector<std::string> to;
};

/// Which failures notify which channel.
struct NotifyRule {
    /// The job kind watched; "*" for every kind. A job's tag `notify:<channel>` sends its
    /// failures to that channel instead, and `notify:off` silences it.
    std::string kind = "*";
    /// Name of a channel in NotifierOptions::channels.
    std::string channel;
    /// 0: notify when a job is discarded (no attempts left, or discarded by its handler).
    /// N > 0: also when a job's Nth attempt fails and it will be retried.
    int after_failed_attempts = 0;
};

/// Settings of a FailureNotifier.
struct NotifierOptions {
    std::map<std::string, NotifyChannel> channels;
    std::vector<NotifyRule> rules;
    /// Failures of one kind within a window become one notice, sent when the window closes.
    Duration window = std::chrono::minutes{5};
    /// Job ids a notice names at most (the count covers all of them).
    int max_listed = 5;
    /// Queue of the notice and delivery jobs (a worker must serve it).
    std::string queue = "default";
    /// The clock windows are cut by: the workers' (finish times are theirs). Default: the
    /// system clock.
    const Clock* clock = nullptr;
};

/// NotifierOptions from the environment: JOBQ_NOTIFY_WEBHOOK_URL (+ JOBQ_NOTIFY_WEBHOOK_SECRET,
/// a secret's name), JOBQ_NOTIFY_SLACK_URL, JOBQ_NOTIFY_EMAIL_TO (comma-separated) each make a
/// channel of that name ("webhook", "slack", "email") with one rule for JOBQ_NOTIFY_KINDS
/// (comma-separated, default "*"); JOBQ_NOTIFY_AFTER_ATTEMPTS, JOBQ_NOTIFY_WINDOW_S,
/// JOBQ_NOTIFY_QUEUE. No channel variable set: no channels and no rules.
NotifierOptions notifier_options_from_env();

/// Watches a worker's attempts and sends coalesced failure notices.
class FailureNotifier {
  public:
    /// Throws Error(invalid_argument) naming a bad setting (a rule naming no channel, a
    /// channel without a URL or recipients, a window under a second).
    FailureNotifier(Queue& queue, NotifierOptions options);
    ~FailureNotifier();
    FailureNotifier(const FailureNotifier&) = delete;
    FailureNotifier& operator=(const FailureNotifier&) = delete;

    /// Registers the jobq.notice kind (which counts and enqueues deliveries). The jobq.http
    /// and jobq.email kinds that deliver are registered as usual, by add_http_kind and
    /// add_email_kind, on this or another worker.
    void add_to(Registry& registry);
    /// Makes `options.on_attempt` report to this notifier (after calling the one it had). The
    /// notifier must outlive the worker.
    void attach(WorkerOptions& options);

    /// Called for each attempt (what attach installs): enqueues the window's notice on the
    /// first qualifying failure, without blocking the caller.
    void on_attempt(const AttemptReport& report);

    struct State;

  private:
    std::shared_ptr<State> state_;
};

}  // namespace jobq::kinds
