// add_email_kind (email_kind.hpp): payload -> checked message -> MIME text -> one SMTP
// transaction on the shared multi -> an outcome chosen by the server's reply codes.

#include "jobq/kinds/email_kind.hpp"

#include <curl/curl.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "curl_multi.hpp"
#include "easy_handle.hpp"
#include "jobq/error.hpp"
#include "jobq/signals.hpp"
#include "mime_render.hpp"
#include "smtp_dialogue.hpp"

namespace jobq::kinds {

namespace {

namespace asio = boost::asio;
using nlohmann::json;

// libcurl 8.2 fixed the spelling of this option; the old name stays for older versions.
#if LIBCURL_VERSION_NUM >= 0x080200
constexpr CURLoption rcpt_allow_fails = CURLOPT_MAIL_RCPT_ALLOWFAILS;
#else
constexpr CURLoption rcpt_allow_fails = CURLOPT_MAIL_RCPT_ALLLOWFAILS;
#endif

// The rendered message, handed to libcurl as it asks for it, and the attempt it belongs to.
struct Upload {
    std::string bytes;
    const JobContext* ctx = nullptr;
    std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* self) {
    auto* up = static_cast<Upload*>(self);
    // A transfer removed mid-message makes libcurl end the DATA as if the message were whole
    // (a truncated mail would go out): failing here first ends it without the final dot.
    if (up->ctx->cancel_requested()) return CURL_READFUNC_ABORT;
    const std::size_t n = std::min(size * count, up->bytes.size() - up->offset);
    std::memcpy(buffer, up->bytes.data() + up->offset, n);
    up->offset += n;
    return n;
}

// libcurl waits for the server's verdict on the message, and for the reply to a removed
// transfer's end of data, blocking (curl issues 4015, 8555), calling this about once a
// second meanwhile: a cancelled attempt ends within that second instead of at the timeout.
int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<const Upload*>(self)->ctx->cancel_requested() ? 1 : 0;
}

// Letters and digits nobody can predict, for the multipart boundaries.
std::string random_token() {
    unsigned char bytes[12];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        std::random_device rd;
        for (auto& b : bytes) b = static_cast<unsigned char>(rd());
    }
    std::string out;
    for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
    return out;
}

// Stable across the attempts of one job, so that a message delivered twice (the server
// accepted it but the answer was lost, and the job ran again) is recognisably the same one;
// the job's creation time keeps two stores' job 42 apart.
std::string message_id_for(const Job& job, const EmailAddress& from) {
    const std::string domain = from.address.substr(from.address.find('@') + 1);
    return fmt::format("<jobq.{}.{}@{}>", job.id, job.created_at.time_since_epoch().count(),
                       domain);
}

long milliseconds(Duration d) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

bool is_tls_failure(CURLcode code) {
    switch (code) {
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_SSL_CRL_BADFILE:
            return true;
        default:
            return false;
    }
}

// How an attempt that did not end in CURLE_OK failed, and whether trying again could help.
struct Failure {
    bool permanent = false;
    std::string message;
};

Failure failure_of(CURLcode code, const SmtpDialogue& dialogue, std::size_t recipients,
                   const char* detail, const EmailOptions& options) {
    const auto& rcpts = dialogue.recipients();
    const bool none_accepted =
        std::none_of(rcpts.begin(), rcpts.end(),
                     [](const RecipientReply& r) { return r.reply.code / 100 == 2; });
    if (!rcpts.empty() && rcpts.size() == recipients && none_accepted) {
        // Every recipient refused: permanent only if every refusal is.
        Failure f{true, {}};
        for (const auto& r : rcpts) {
            if (!f.message.empty()) f.message += "; ";
            f.message += fmt::format("SMTP {} (RCPT TO <{}>)", r.reply.line(), r.address);
            if (r.reply.code / 100 != 5) f.permanent = false;
        }
        return f;
    }
    const auto& last = dialogue.last_reply();
    if (last && last->code >= 400 && last->command != "RCPT TO") {
        return {last->code >= 500, fmt::format("SMTP {} ({})", last->line(), last->command)};
    }
    // No refusal from the server: the connection, TLS or time failed. All of these may pass.
    const std::string url = printable(options.url);
    const std::string why = *detail ? printable(detail) : curl_easy_strerror(code);
    if (code == CURLE_USE_SSL_FAILED) {
        return {false, fmt::format("SMTP: {} does not offer STARTTLS, which tls \"required\" "
                                   "demands ({})",
                                   url, why)};
    }
    if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST) {
        return {false, fmt::format("SMTP: could not connect to {} ({})", url, why)};
    }
    if (code == CURLE_OPERATION_TIMEDOUT) {
        return {false, fmt::format("SMTP: {} timed out ({})", url, why)};
    }
    if (is_tls_failure(code)) {
        return {false, fmt::format("SMTP: TLS with {} failed ({})", url, why)};
    }
    std::string message = fmt::format("SMTP: transfer to {} failed ({})", url, why);
    if (last) message += fmt::format("; last reply: {} ({})", last->line(), last->command);
    return {false, std::move(message)};
}

json result_of(const std::string& message_id, const SmtpDialogue& dialogue,
               const std::vector<std::string>& recipients) {
    json accepted = json::array();
    json rejected = json::array();
    for (const auto& r : dialogue.recipients()) {
        if (r.reply.code / 100 == 2) {
            accepted.push_back(r.address);
        } else {
            rejected.push_back(
                {{"address", r.address}, {"code", r.reply.code}, {"reply", r.reply.line()}});
        }
    }
    // libcurl said OK, so the server took the message; should the replies have escaped the
    // record, it went to everyone asked for.
    if (dialogue.recipients().empty()) {
        for (const auto& r : recipients) accepted.push_back(r);
    }
    const auto& last = dialogue.last_reply();
    return {{"message_id", message_id},
            {"accepted", std::move(accepted)},
            {"rejected", std::move(rejected)},
            {"reply", last ? last->line() : std::string{}}};
}

class EmailKind {
  public:
    explicit EmailKind(EmailOptions options) : options_(std::move(options)) {}
    ~EmailKind() {
        // No handler of the thread may run while the multi goes (it is destroyed next, on
        // this thread, before the pool's context).
        if (thread_) {
            thread_->stop();
            thread_->join();
        }
    }
    EmailKind(const EmailKind&) = delete;
    EmailKind& operator=(const EmailKind&) = delete;

    asio::awaitable<json> run(JobContext& ctx);

  private:
    // libcurl blocks the thread that drives an SMTP transfer while the server decides on the
    // message (see on_progress): that thread is this one, never a worker's executor, so other
    // jobs run on while a server thinks. Made with the first job.
    std::shared_ptr<CurlMulti> multi() {
        std::call_once(started_, [this] { thread_.emplace(1); });
        return multi_.get(thread_->get_executor());
    }

    EmailOptions options_;
    std::once_flag started_;
    std::optional<asio::thread_pool> thread_;
    LazyMulti multi_;  // after thread_: goes first
};

asio::awaitable<json> EmailKind::run(JobContext& ctx) {
    EmailMessage message;
    try {
        message = parse_email_message(ctx.payload(), options_);
    } catch (const Error& e) {
        // Retrying cannot fix the payload: straight to the dead-letter queue, saying why.
        throw Discard(fmt::format("invalid jobq.email payload: {}", e.what()));
    }
    const std::string message_id = message_id_for(ctx.job(), message.from);
    // The worker's clock, as everywhere in jobq: the attempt started when it says.
    const Timestamp date = ctx.job().attempted_at.value_or(system_clock().now());
    const std::vector<std::string> recipients = message.recipients();

    Upload upload{render_message(message, date, message_id, random_token()), &ctx};
    SmtpDialogue dialogue;
    char detail[CURL_ERROR_SIZE] = {};
    Slist rcpt;
    for (const auto& r : recipients) append(rcpt, "<" + r + ">");

    EasyHandle easy = make_easy();
    CURL* e = easy.get();
    curl_easy_setopt(e, CURLOPT_URL, options_.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    // One connection per message: libcurl may put a connection back in its cache in the middle
    // of a DATA it gave up on (a timeout or an abort while it waited for the verdict), and the
    // next message on it would wait for an answer that never comes.
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, detail);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(options_.connect_timeout));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, milliseconds(options_.timeout));
    switch (options_.tls) {
        case SmtpTls::required:
            curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
            break;
        case SmtpTls::opportunistic:
            curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
            break;
        case SmtpTls::none:
            curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_NONE));
            break;
    }
    if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.user.empty()) {
        curl_easy_setopt(e, CURLOPT_USERNAME, options_.user.c_str());
        curl_easy_setopt(e, CURLOPT_PASSWORD, options_.password.c_str());
    }
    const std::string mail_from = "<" + message.from.address + ">";
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpt.get());
    // A refused recipient must not cost the others their copy: libcurl goes on to DATA while
    // at least one was accepted, and the dialogue says who was refused.
    curl_easy_setopt(e, rcpt_allow_fails, 1L);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &read_upload);
    curl_easy_setopt(e, CURLOPT_READDATA, &upload);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload.bytes.size()));
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &upload);
    dialogue.attach(e);

    const std::shared_ptr<CurlMulti> multi = this->multi();
    // Cancellation (timeout, cancel, shutdown) throws out of here with the handle already out
    // of the multi, so everything above may go.
    const CURLcode code = co_await multi->perform(e);
    if (code != CURLE_OK && ctx.cancel_requested()) {
        // Our own callbacks ended it; the worker records why (timeout, cancel, shutdown).
        throw std::runtime_error("SMTP transfer stopped: the attempt was cancelled");
    }
    if (code != CURLE_OK) {
        Failure f = failure_of(code, dialogue, recipients.size(), detail, options_);
        if (f.permanent) throw Discard(std::move(f.message));
        throw std::runtime_error(std::move(f.message));
    }
    co_return result_of(message_id, dialogue, recipients);
}

}  // namespace

void add_email_kind(Registry& registry, EmailOptions options, HandlerOptions handler) {
    validate(options);
    auto kind = std::make_shared<EmailKind>(std::move(options));
    registry.add(
        std::string(email_kind), [kind](JobContext& ctx) { return kind->run(ctx); },
        std::move(handler));
}

JobSpec email_job(nlohmann::json payload, const EmailOptions& options) {
    EmailOptions check = options;
    // Any valid sender stands in for the worker's default, which this process may not know.
    if (check.default_from.empty()) check.default_from = "sender@localhost";
    (void)parse_email_message(payload, check);
    return JobSpec(std::string(email_kind), std::move(payload));
}

}  // namespace jobq::kinds
