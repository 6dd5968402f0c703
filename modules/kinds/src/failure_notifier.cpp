// FailureNotifier (failure_notifier.hpp): a notice job per channel, event, kind and window,
// counted in the store when the window closes, delivered by a jobq.http or jobq.email job.

#include "jobq/kinds/failure_notifier.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "environment.hpp"
#include "jobq/error.hpp"
#include "jobq/job_context.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/kinds/email_kind.hpp"
#include "jobq/kinds/email_message.hpp"
#include "jobq/kinds/http_request.hpp"
#include "jobq/signals.hpp"
#include "jobq/time_format.hpp"

namespace jobq::kinds {

namespace {

using nlohmann::json;

constexpr const char* tag_prefix = "notify:";
// Pages of a count at most (of 1000 jobs each): a count past that says "at least".
constexpr int max_count_pages = 100;

[[noreturn]] void bad(const std::string& field, const std::string& message) {
    throw Error(ErrorCode::invalid_argument, message, field);
}

std::int64_t micros(Timestamp t) {
    return t.time_since_epoch().count();
}

std::string hex_sha256(const std::string& text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
    std::string out;
    for (unsigned int i = 0; i < 16 && i < len; ++i) out += fmt::format("{:02x}", digest[i]);
    return out;
}

std::string_view event_words(const std::string& event) {
    return event == "discarded" ? "discarded" : "failing and being retried";
}

// A channel's delivery job for a notice's text and facts.
JobSpec delivery(const NotifyChannel& channel, const json& facts, const std::string& text,
                 const std::string& subject) {
    switch (channel.via) {
        case NotifyChannel::Via::slack:
            return JobSpec(std::string(http_kind),
                           {{"url", channel.url}, {"body", {{"text", text}}}});
        case NotifyChannel::Via::email:
            return JobSpec(std::string(email_kind),
                           {{"to", channel.to}, {"subject", subject}, {"text", text}});
        case NotifyChannel::Via::webhook:
            break;
    }
    json body = facts;
    body["type"] = "jobq.notice";
    body["text"] = text;
    json payload = {{"url", channel.url}, {"body", body}};
    if (!channel.signing_secret.empty()) payload["signing_secret"] = channel.signing_secret;
    return JobSpec(std::string(http_kind), std::move(payload));
}

void check(const NotifierOptions& o) {
    if (o.window < std::chrono::seconds{1}) bad("window", "window must be at least one second");
    if (o.max_listed < 1 || o.max_listed > 100) bad("max_listed", "max_listed must be 1..100");
    for (const auto& [name, c] : o.channels) {
        const std::string field = "channels." + printable(name);
        if (name.empty() || name == "off") bad(field, "a channel needs a name other than 'off'");
        if (c.via == NotifyChannel::Via::email) {
            if (c.to.empty()) bad(field + ".to", "an e-mail channel needs recipients");
            for (std::size_t i = 0; i < c.to.size(); ++i) {
                // Checked now, not when the first notice is sent (and discarded).
                (void)parse_email_address(c.to[i], fmt::format("{}.to[{}]", field, i));
            }
        } else {
            // The same checks a jobq.http payload gets, now rather than at the first failure.
            json p = {{"url", c.url}};
            if (!c.signing_secret.empty()) p["signing_secret"] = c.signing_secret;
            try {
                (void)parse_http_request(p);
            } catch (const Error& e) {
                bad(field + "." + e.field(), e.what());
            }
        }
    }
    for (std::size_t i = 0; i < o.rules.size(); ++i) {
        const NotifyRule& r = o.rules[i];
        const std::string field = fmt::format("rules[{}]", i);
        if (!o.channels.count(r.channel)) {
            bad(field + ".channel", fmt::format("rule names channel '{}', which is not in "
                                                "channels",
                                                printable(r.channel)));
        }
        if (r.kind.empty()) bad(field + ".kind", "kind must be a job kind or \"*\"");
        if (r.after_failed_attempts < 0) {
            bad(field + ".after_failed_attempts", "after_failed_attempts must not be negative");
        }
    }
}

// The variable's value as an integer lo..hi, or `fallback` when it is unset.
int env_int(const char* name, int lo, int hi, int fallback) {
    const char* v = std::getenv(name);
    return v ? static_cast<int>(env_integer(name, v, lo, hi)) : fallback;
}

}  // namespace

NotifierOptions notifier_options_from_env() {
    NotifierOptions o;
    const int after = env_int("JOBQ_NOTIFY_AFTER_ATTEMPTS", 0, 1000, 0);
    o.window = std::chrono::seconds{env_int("JOBQ_NOTIFY_WINDOW_S", 1, 7 * 24 * 3600, 300)};
    if (const char* q = std::getenv("JOBQ_NOTIFY_QUEUE")) o.queue = q;
    std::vector<std::string> kinds = {"*"};
    if (const char* k = std::getenv("JOBQ_NOTIFY_KINDS")) kinds = env_list(k);
    auto add = [&](const std::string& name, NotifyChannel c) {
        o.channels[name] = std::move(c);
        for (const auto& kind : kinds) o.rules.push_back({kind, name, after});
    };
    if (const char* url = std::getenv("JOBQ_NOTIFY_WEBHOOK_URL")) {
        NotifyChannel c{NotifyChannel::Via::webhook, url, "", {}};
        if (const char* s = std::getenv("JOBQ_NOTIFY_WEBHOOK_SECRET")) c.signing_secret = s;
        add("webhook", std::move(c));
    }
    if (const char* url = std::getenv("JOBQ_NOTIFY_SLACK_URL")) {
        add("slack", {NotifyChannel::Via::slack, url, "", {}});
    }
    if (const char* to = std::getenv("JOBQ_NOTIFY_EMAIL_TO")) {
        add("email", {NotifyChannel::Via::email, "", "", env_list(to)});
    }
    check(o);
    return o;
}

struct FailureNotifier::State : std::enable_shared_from_this<FailureNotifier::State> {
    Queue& queue;
    NotifierOptions options;
    std::mutex mutex;
    // Notice keys this process enqueued already, so a storm costs one insert per window, not
    // one per failure (the unique key would refuse the rest anyway). Forgotten window by window.
    std::set<std::pair<std::int64_t, std::string>> sent;

    State(Queue& q, NotifierOptions o) : queue(q), options(std::move(o)) {}

    void report(const AttemptReport& r);
    json run_notice(JobContext& ctx);
};

void FailureNotifier::State::report(const AttemptReport& r) {
    if (r.kind == notice_kind) return;  // a failing notice does not notify about itself
    const bool discarded = r.outcome == "discard";
    if (!discarded && r.outcome != "retry") return;

    // The job's own choice first (tags), then the rules for its kind.
    std::vector<std::pair<std::string, int>> targets;  // channel, after_failed_attempts
    bool tagged = false;
    for (const auto& tag : r.tags) {
        if (!tag.starts_with(tag_prefix)) continue;
        tagged = true;
        const std::string channel = tag.substr(std::string_view(tag_prefix).size());
        if (channel != "off" && options.channels.count(channel)) targets.emplace_back(channel, 0);
    }
    if (!tagged) {
        for (const auto& rule : options.rules) {
            if (rule.kind == "*" || rule.kind == r.kind) {
                targets.emplace_back(rule.channel, rule.after_failed_attempts);
            }
        }
    }
    const Timestamp now = (options.clock ? *options.clock : system_clock()).now();
    const auto window = options.window;
    const Timestamp start{(now.time_since_epoch() / window) * window};
    for (const auto& [channel, after] : targets) {
        std::string event;
        if (discarded) {
            event = "discarded";
        } else if (after > 0 && r.attempt == after) {
            event = "failing";
        } else {
            continue;
        }
        const std::string key =
            "jobq.notice:" +
            hex_sha256(fmt::format("{}\n{}\n{}\n{}", channel, event, r.kind, micros(start)));
        {
            std::lock_guard lock(mutex);
            // Forget windows that closed long ago.
            while (!sent.empty() && sent.begin()->first < micros(start - 2 * window)) {
                sent.erase(sent.begin());
            }
            if (!sent.emplace(micros(start), key).second) continue;
        }
        const Timestamp end = start + window;
        json payload = {{"channel", channel},
                        {"event", event},
                        {"kind", r.kind},
                        {"window_start", format_timestamp(start)},
                        {"window_end", format_timestamp(end)},
                        {"window_start_us", micros(start)},
                        {"window_end_us", micros(end)},
                        {"after_failed_attempts", after},
                        {"first_job", r.id},
                        {"first_error", r.message.substr(0, 1000)}};
        // Due a little after the window closes, so failures committed at its very end count.
        JobSpec spec =
            JobSpec(std::string(notice_kind), std::move(payload))
                .queue(options.queue)
                .run_at(end + std::chrono::seconds{5})
                .unique_key(key)
                .unique_states({JobState::pending, JobState::scheduled, JobState::available,
                                JobState::running, JobState::retryable, JobState::completed,
                                JobState::discarded, JobState::cancelled})
                .max_attempts(10);
        std::weak_ptr<State> weak = weak_from_this();
        const std::int64_t window_key = micros(start);
        queue.async_enqueue(std::move(spec),
                            [weak, window_key, key](std::exception_ptr e, InsertResult) {
                                // Not enqueued (the store failed): forget it, so the window's next
                                // failure tries again.
                                if (!e) return;
                                if (auto self = weak.lock()) {
                                    std::lock_guard lock(self->mutex);
                                    self->sent.erase({window_key, key});
                                }
                            });
    }
}

json FailureNotifier::State::run_notice(JobContext& ctx) {
    const json& p = ctx.payload();
    const std::string channel_name = p.at("channel").get<std::string>();
    auto it = options.channels.find(channel_name);
    if (it == options.channels.end()) {
        throw Discard(
            fmt::format("this worker's notifier has no channel '{}'", printable(channel_name)));
    }
    const std::string event = p.at("event").get<std::string>();
    const std::string kind = p.at("kind").get<std::string>();
    const int after = p.value("after_failed_attempts", 0);

    // Count in the store: every process's failures of the window, not only this one's.
    JobFilter f;
    f.kind = kind;
    f.limit = 1000;
    if (event == "discarded") {
        f.states = {JobState::discarded};
        f.finished_after = Timestamp{Duration{p.at("window_start_us").get<std::int64_t>()}};
        f.finished_before = Timestamp{Duration{p.at("window_end_us").get<std::int64_t>()}};
    } else {
        // Still failing: waiting for a retry, or already in one.
        f.states = {JobState::retryable, JobState::available, JobState::scheduled,
                    JobState::running};
    }
    std::int64_t count = 0;
    bool more = false;
    std::vector<JobId> ids;
    for (int page_no = 0;; ++page_no) {
        if (page_no == max_count_pages) {
            more = true;
            break;
        }
        const JobPage page = queue.list(f);
        for (const Job& j : page.jobs) {
            if (event != "discarded" && j.errors.size() < static_cast<std::size_t>(after)) continue;
            ++count;
            ids.push_back(j.id);
        }
        if (!page.next_before_id) break;
        f.before_id = page.next_before_id;
    }
    if (count == 0) {
        // Replayed or recovered since: nothing left to tell.
        return {{"sent", false}, {"reason", "no job of the window is still failing"}};
    }
    std::sort(ids.begin(), ids.end());
    ids.resize(std::min<std::size_t>(ids.size(), static_cast<std::size_t>(options.max_listed)));
    const std::string count_text = fmt::format("{}{}", count, more ? "+" : "");
    const std::string subject =
        fmt::format("[jobq] {} {} job{} {}", count_text, kind, count == 1 ? "" : "s",
                    event == "discarded" ? "discarded" : "failing");
    std::string text = fmt::format(
        "{} job{} of kind {} {} {} between {} and {} (UTC){}.\nFirst: job {}: {}\nJobs: {}{}",
        count_text, count == 1 ? "" : "s", kind, count == 1 ? "was" : "were", event_words(event),
        p.at("window_start").get<std::string>(), p.at("window_end").get<std::string>(),
        event == "failing" ? fmt::format(" (each after at least {} failed attempts)", after) : "",
        p.at("first_job").get<JobId>(), p.value("first_error", std::string{}), fmt::join(ids, ", "),
        count > static_cast<std::int64_t>(ids.size()) ? ", ..." : "");
    const json facts = {{"event", event},
                        {"kind", kind},
                        {"count", count},
                        {"count_is_lower_bound", more},
                        {"job_ids", ids},
                        {"first_job", p.at("first_job")},
                        {"first_error", p.value("first_error", std::string{})},
                        {"window_start", p.at("window_start")},
                        {"window_end", p.at("window_end")}};
    // One delivery per notice, even when this notice job itself runs twice.
    JobSpec spec = delivery(it->second, facts, text, subject)
                       .queue(options.queue)
                       .unique_key(fmt::format("jobq.notice.delivery:{}", ctx.id()))
                       .unique_states({JobState::pending, JobState::scheduled, JobState::available,
                                       JobState::running, JobState::retryable, JobState::completed,
                                       JobState::discarded, JobState::cancelled})
                       .max_attempts(20);
    const InsertResult r = queue.enqueue(spec);
    return {{"sent", true}, {"count", count}, {"delivery_job", r.id}, {"channel", channel_name}};
}

FailureNotifier::FailureNotifier(Queue& queue, NotifierOptions options) {
    check(options);
    state_ = std::make_shared<State>(queue, std::move(options));
}

FailureNotifier::~FailureNotifier() = default;

void FailureNotifier::add_to(Registry& registry) {
    auto state = state_;
    // A plain function: it reads and writes the store synchronously, on the worker's pool.
    registry.add(std::string(notice_kind),
                 [state](JobContext& ctx) { return state->run_notice(ctx); });
}

void FailureNotifier::attach(WorkerOptions& options) {
    auto state = state_;
    auto previous = std::move(options.on_attempt);
    options.on_attempt = [state, previous](const AttemptReport& r) {
        if (previous) previous(r);
        state->report(r);
    };
}

void FailureNotifier::on_attempt(const AttemptReport& report) {
    state_->report(report);
}

}  // namespace jobq::kinds
