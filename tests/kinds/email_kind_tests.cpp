// jobq.email end to end: a real Worker on a real SQLite file sends real messages to the test
// server (servers/smtp_server.py, aiosmtpd) on loopback, which hands back what Python's own MIME
// parser reads in each message. Also the SMTP dialogue record the outcomes are decided by.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <openssl/sha.h>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "base64.hpp"
#include "harness.hpp"
#include "job_checks.hpp"
#include "jobq/error.hpp"
#include "jobq/kinds/email_kind.hpp"
#include "server_process.hpp"
#include "smtp_dialogue.hpp"
#include "test_certificate.hpp"

using namespace std::chrono_literals;
using jobq::Job;
using jobq::JobState;
using jobq::kinds::EmailOptions;
using jobq::kinds::SmtpDialogue;
using jobq::kinds::SmtpTls;
using jobq::test::contains;
using jobq::test::last_error;
using nlohmann::json;

namespace {

std::vector<std::string> server_args(const jobq::test::TempDir& dir,
                                     std::vector<std::string> args) {
    args.insert(args.begin(), dir.path().string());
    return args;
}

// The test server and the directory it writes each accepted message into.
struct SmtpServer {
    jobq::test::TempDir dir;
    jobq::test::ServerProcess process;
    int port;

    explicit SmtpServer(std::vector<std::string> args = {})
        : process(JOBQ_TEST_SERVERS "/smtp_server.py", server_args(dir, std::move(args))),
          port(process.info().at("port").get<int>()) {}

    static std::vector<std::string> tls(const char* mode) {
        return {"--tls",  mode,
                "--cert", jobq::test::test_certificate().cert,
                "--key",  jobq::test::test_certificate().key};
    }

    std::string url(const char* scheme = "smtp") const {
        return fmt::format("{}://127.0.0.1:{}", scheme, port);
    }
    /// What Python's parser read in the n-th accepted message (1-based).
    json message(int n = 1) const {
        std::ifstream in(dir.path() / (std::to_string(n) + ".json"));
        REQUIRE(in.good());
        return json::parse(in);
    }
    std::string raw(int n = 1) const {
        std::ifstream in(dir.path() / (std::to_string(n) + ".eml"), std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    bool has(const std::string& file) const { return std::filesystem::exists(dir.path() / file); }
};

EmailOptions plain_options(const SmtpServer& server) {
    EmailOptions o;
    o.url = server.url();
    o.tls = SmtpTls::none;
    o.default_from = "Alerts <alerts@example.com>";
    return o;
}

EmailOptions tls_options(const SmtpServer& server, const char* scheme = "smtp") {
    EmailOptions o = plain_options(server);
    o.url = server.url(scheme);
    o.tls = SmtpTls::required;
    o.ca_file = jobq::test::test_certificate().cert;
    return o;
}

// A Worker running jobq.email, four jobs at a time.
struct EmailHarness : jobq::test::Harness {
    explicit EmailHarness(EmailOptions options, jobq::HandlerOptions handler = {}) {
        jobq::kinds::add_email_kind(registry, std::move(options), std::move(handler));
        start({.queues = {{"default", 4}}, .poll_interval = 20ms, .blocking_threads = 1});
    }

    jobq::JobId send(json payload, int attempts = 1, std::optional<jobq::Duration> timeout = {}) {
        jobq::JobSpec spec = jobq::kinds::email_job(std::move(payload));
        spec.max_attempts(attempts);
        if (timeout) spec.timeout(*timeout);
        return queue.enqueue(spec).id;
    }
    Job finished(jobq::JobId id) {
        return wait_for(id, [](const Job& j) {
            return j.state == JobState::completed || j.state == JobState::discarded ||
                   j.state == JobState::retryable || j.state == JobState::cancelled;
        });
    }
};

json payload(std::string subject = "Hello") {
    return {
        {"to", "Ann <ann@example.com>"}, {"subject", std::move(subject)}, {"text", "Hi Ann.\n"}};
}

json with_to(const std::string& to) {
    json p = payload();
    p["to"] = to;
    return p;
}

std::string sha256_hex(const std::string& bytes) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
    std::string out;
    for (unsigned char b : digest) out += fmt::format("{:02x}", b);
    return out;
}

std::string crlf_to_lf(std::string s) {
    for (std::size_t p; (p = s.find("\r\n")) != std::string::npos;) s.erase(p, 1);
    return s;
}

// Python found nothing wrong with the message: no defect at any level, CRLF only, no line
// over 998 bytes.
void check_well_formed(const json& m) {
    CHECK(m.at("defects").empty());
    CHECK(m.at("max_line_length").get<int>() <= 998);
    CHECK_FALSE(m.at("bare_lf").get<bool>());
    std::vector<json> parts{m.at("body")};
    while (!parts.empty()) {
        json p = parts.back();
        parts.pop_back();
        CHECK(p.at("defects").empty());
        if (p.contains("parts")) {
            for (const auto& c : p.at("parts")) parts.push_back(c);
        }
    }
}

// A loopback port nobody listens on (bound, then released).
int closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace

// --- the dialogue record -----------------------------------------------------------------------

TEST_CASE("the mail dialogue record keeps each recipient's reply and joins multi-line replies") {
    SmtpDialogue d;
    d.on_received("220 mx ready\r\n");
    d.on_sent("EHLO localhost\r\n");
    d.on_received("250-mx\r\n250-SIZE 100\r\n250 ");
    d.on_received("HELP\r\n");
    d.on_sent("MAIL FROM:<a@example.com> SIZE=12\r\n");
    d.on_received("250 OK\r\n");
    d.on_sent("RCPT TO:<b@example.com>\r\n");
    d.on_received("250 2.1.5 OK\r\n");
    d.on_sent("RCPT TO:<c@example.com>\r\n");
    d.on_received("550-5.1.1 <c@example.com>: no such\r\n550 5.1.1 user here\r\n");
    d.on_sent("DATA\r\n");
    d.on_received("354 go ahead\r\n");
    d.on_received("250 2.0.0 queued as 7\r\n");
    d.on_sent("QUIT\r\n");
    d.on_received("221 bye\r\n");

    REQUIRE(d.recipients().size() == 2);
    CHECK(d.recipients()[0].address == "b@example.com");
    CHECK(d.recipients()[0].reply.code == 250);
    CHECK(d.recipients()[1].address == "c@example.com");
    CHECK(d.recipients()[1].reply.line() == "550 5.1.1 <c@example.com>: no such 5.1.1 user here");
    REQUIRE(d.last_reply().has_value());
    CHECK(d.last_reply()->line() == "250 2.0.0 queued as 7");
    CHECK(d.last_reply()->command == "end of data");
}

TEST_CASE("the mail dialogue record keeps nothing of what is sent during AUTH") {
    SmtpDialogue d;
    d.on_sent("AUTH PLAIN AHVzZXIAc2VjcmV0\r\n");  // with an initial response
    d.on_received("535 5.7.8 Authentication credentials invalid\r\n");
    CHECK(d.last_reply()->command == "AUTH");
    d.on_sent("AUTH LOGIN\r\n");
    d.on_received("334 VXNlcm5hbWU6\r\n");
    d.on_sent("dXNlcg==\r\n");
    d.on_received("334 UGFzc3dvcmQ6\r\n");
    // A password that looks like a command is still a password.
    d.on_sent("RCPT TO:<secret@example.com>\r\n");
    d.on_received("235 2.7.0 Authentication successful\r\n");
    CHECK(d.recipients().empty());
    CHECK(d.last_reply()->line() == "235 2.7.0 Authentication successful");
    CHECK(d.last_reply()->command == "AUTH");
    // After the exchange, commands are read again.
    d.on_sent("MAIL FROM:<a@example.com>\r\n");
    d.on_received("250 OK\r\n");
    CHECK(d.last_reply()->command == "MAIL FROM");
}

TEST_CASE("the mail dialogue record bounds and cleans the reply text it keeps") {
    SmtpDialogue d;
    d.on_sent("MAIL FROM:<a@example.com>\r\n");
    std::string lines;
    for (int i = 0; i < 100; ++i) lines += "550-" + std::string(100, 'x') + "\r\n";
    d.on_received(lines + "550 \xff\x01 end\r\n");
    REQUIRE(d.last_reply().has_value());
    CHECK(d.last_reply()->text.size() == SmtpDialogue::max_reply_text);
    CHECK(d.last_reply()->text.ends_with("..."));
    d.on_received("451 \xff\x01 x\r\n");
    CHECK(d.last_reply()->text == "?? x");
}

// --- delivery ----------------------------------------------------------------------------------

TEST_CASE("a plain text mail is delivered and the job completes with the server's reply") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    const auto id = h.send(payload());
    const Job job = h.finished(id);
    REQUIRE(job.state == JobState::completed);
    CHECK(job.result.at("accepted") == json{"ann@example.com"});
    CHECK(job.result.at("rejected") == json::array());
    CHECK(job.result.at("reply") == "250 2.0.0 OK: queued as 1");
    const std::string message_id = job.result.at("message_id");
    CHECK(message_id.starts_with(fmt::format("<jobq.{}.", id)));
    CHECK(message_id.ends_with("@example.com>"));

    const json m = server.message();
    check_well_formed(m);
    CHECK(m.at("mail_from") == "alerts@example.com");
    CHECK(m.at("rcpt_tos") == json{"ann@example.com"});
    CHECK(m.at("headers").at("message-id")[0].at("value") == message_id);
    CHECK(m.at("headers").at("subject")[0].at("value") == "Hello");
    CHECK(m.at("headers").at("from")[0].at("addresses")[0] ==
          json{{"name", "Alerts"}, {"address", "alerts@example.com"}});
    CHECK(m.at("headers").contains("date"));
    CHECK(m.at("body").at("content_type") == "text/plain");
    CHECK(m.at("body").at("charset") == "utf-8");
    CHECK(crlf_to_lf(m.at("body").at("text")) == "Hi Ann.\n");
}

TEST_CASE("a mail with text and html is delivered as multipart/alternative, text first") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    json p = payload();
    p["html"] = "<p>Hi <b>Ann</b>.</p>";
    REQUIRE(h.finished(h.send(p)).state == JobState::completed);
    const json m = server.message();
    check_well_formed(m);
    const json& body = m.at("body");
    CHECK(body.at("content_type") == "multipart/alternative");
    REQUIRE(body.at("parts").size() == 2);
    CHECK(body.at("parts")[0].at("content_type") == "text/plain");
    CHECK(body.at("parts")[1].at("content_type") == "text/html");
    CHECK(crlf_to_lf(body.at("parts")[1].at("text")) == "<p>Hi <b>Ann</b>.</p>");
}

TEST_CASE("mail attachments arrive byte for byte under their names and types") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    std::string binary;
    for (int i = 0; i < 5000; ++i) binary += static_cast<char>((i * 31) & 0xff);
    json p = payload();
    p["html"] = "<p>Report attached.</p>";
    p["attachments"] = {
        {{"filename", "data.bin"}, {"content_base64", jobq::kinds::base64_encode(binary)}},
        {{"filename", "report.csv"},
         {"content_type", "text/csv"},
         {"content_base64", jobq::kinds::base64_encode("a,b\r\n1,2\r\n")}}};
    REQUIRE(h.finished(h.send(p)).state == JobState::completed);
    const json m = server.message();
    check_well_formed(m);
    const json& body = m.at("body");
    CHECK(body.at("content_type") == "multipart/mixed");
    REQUIRE(body.at("parts").size() == 3);
    CHECK(body.at("parts")[0].at("content_type") == "multipart/alternative");
    const json& bin = body.at("parts")[1];
    CHECK(bin.at("filename") == "data.bin");
    CHECK(bin.at("disposition") == "attachment");
    CHECK(bin.at("content_type") == "application/octet-stream");
    CHECK(bin.at("size") == 5000);
    CHECK(bin.at("sha256") == sha256_hex(binary));
    const json& csv = body.at("parts")[2];
    CHECK(csv.at("filename") == "report.csv");
    CHECK(csv.at("content_type") == "text/csv");
    CHECK(csv.at("sha256") == sha256_hex("a,b\r\n1,2\r\n"));
}

TEST_CASE("a mail's non-ASCII subject, display names and filename read back the same in Python") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    const std::string subject =
        "Gr\xc3\xbc\xc3\x9f"
        "e \xe2\x80\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae"
        "\xe4\xbb\xb6\xe5\x90\x8d \xf0\x9f\x93\xa7 and a rather long tail of plain words so "
        "that it folds";
    json p = payload(subject);
    p["from"] = "J\xc3\xbcrgen M\xc3\xbcller <jm@example.de>";
    p["to"] = {{{"name", "Zo\xc3\xab, \"the\" boss"}, {"address", "zoe@example.com"}},
               "\"Lee, Ann\" <lee@example.com>"};
    p["text"] = "Caf\xc3\xa9 \xe2\x82\xac 5\n";
    p["attachments"] = {{{"filename", "r\xc3\xa9sum\xc3\xa9 2024.pdf"},
                         {"content_type", "application/pdf"},
                         {"content_base64", "JVBERi0xLjQK"}}};
    REQUIRE(h.finished(h.send(p)).state == JobState::completed);
    const json m = server.message();
    check_well_formed(m);
    const json& headers = m.at("headers");
    CHECK(headers.at("subject")[0].at("value") == subject);
    CHECK(headers.at("from")[0].at("addresses")[0] ==
          json{{"name", "J\xc3\xbcrgen M\xc3\xbcller"}, {"address", "jm@example.de"}});
    CHECK(headers.at("to")[0].at("addresses") ==
          json{{{"name", "Zo\xc3\xab, \"the\" boss"}, {"address", "zoe@example.com"}},
               {{"name", "Lee, Ann"}, {"address", "lee@example.com"}}});
    const json& parts = m.at("body").at("parts");
    CHECK(crlf_to_lf(parts[0].at("text")) == "Caf\xc3\xa9 \xe2\x82\xac 5\n");
    CHECK(parts[1].at("filename") == "r\xc3\xa9sum\xc3\xa9 2024.pdf");
    CHECK(parts[1].at("sha256") == sha256_hex("%PDF-1.4\n"));
}

TEST_CASE("bcc recipients get the mail but no header names them") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    json p = payload();
    p["cc"] = "cc@example.com";
    p["bcc"] = {"hidden@example.com"};
    const Job job = h.finished(h.send(p));
    REQUIRE(job.state == JobState::completed);
    CHECK(job.result.at("accepted") ==
          json{"ann@example.com", "cc@example.com", "hidden@example.com"});
    const json m = server.message();
    CHECK(m.at("rcpt_tos") == json{"ann@example.com", "cc@example.com", "hidden@example.com"});
    CHECK_FALSE(m.at("headers").contains("bcc"));
    CHECK_FALSE(contains(server.raw(), "hidden@example.com"));
    CHECK(m.at("headers").at("cc")[0].at("value") == "cc@example.com");
}

// --- TLS and authentication ----------------------------------------------------------------------

TEST_CASE("mail over STARTTLS with a private CA is delivered over TLS") {
    SmtpServer server(SmtpServer::tls("starttls"));
    EmailHarness h(tls_options(server));
    REQUIRE(h.finished(h.send(payload())).state == JobState::completed);
    CHECK(server.message().at("tls") == true);
}

TEST_CASE("mail over implicit TLS (smtps) is delivered") {
    SmtpServer server(SmtpServer::tls("implicit"));
    EmailHarness h(tls_options(server, "smtps"));
    REQUIRE(h.finished(h.send(payload())).state == JobState::completed);
    CHECK(server.message().at("tls") == true);
}

TEST_CASE("a mail server whose certificate is not trusted is retried with a TLS error") {
    SmtpServer server(SmtpServer::tls("starttls"));
    EmailOptions o = tls_options(server);
    o.ca_file.clear();  // the system's CAs do not know the test's certificate
    EmailHarness h(o);
    const Job job = h.finished(h.send(payload(), 3));
    CHECK(job.state == JobState::retryable);
    CHECK(contains(last_error(job), "SMTP: TLS with smtp://127.0.0.1:"));
    CHECK_FALSE(server.has("1.json"));
}

TEST_CASE("mail with tls required to a server without STARTTLS retries, saying why") {
    SmtpServer server;
    EmailOptions o = plain_options(server);
    o.tls = SmtpTls::required;
    EmailHarness h(o);
    const Job job = h.finished(h.send(payload(), 3));
    CHECK(job.state == JobState::retryable);
    CHECK(job.errors.back().kind == "exception");
    CHECK(contains(last_error(job), "does not offer STARTTLS"));
    CHECK_FALSE(server.has("1.json"));
}

TEST_CASE("mail with tls opportunistic goes in plain text to a server without STARTTLS") {
    SmtpServer server;
    EmailOptions o = plain_options(server);
    o.tls = SmtpTls::opportunistic;
    EmailHarness h(o);
    REQUIRE(h.finished(h.send(payload())).state == JobState::completed);
    CHECK(server.message().at("tls") == false);
}

TEST_CASE("mail with the right AUTH password is delivered") {
    SmtpServer server([] {
        auto args = SmtpServer::tls("starttls");
        args.insert(args.end(), {"--auth", "mailer:Hunter2-right"});
        return args;
    }());
    EmailOptions o = tls_options(server);
    o.user = "mailer";
    o.password = "Hunter2-right";
    EmailHarness h(o);
    const Job job = h.finished(h.send(payload()));
    REQUIRE(job.state == JobState::completed);
    CHECK(server.message().at("authenticated") == true);
    CHECK_FALSE(contains(jobq::to_json(job).dump(), "Hunter2-right"));
}

TEST_CASE(
    "mail with a wrong password is discarded with the 535 reply and the password is nowhere in the "
    "job") {
    SmtpServer server([] {
        auto args = SmtpServer::tls("starttls");
        args.insert(args.end(), {"--auth", "mailer:Hunter2-right"});
        return args;
    }());
    EmailOptions o = tls_options(server);
    o.user = "mailer";
    o.password = "Wr0ng-pa55word";
    EmailHarness h(o);
    const Job job = h.finished(h.send(payload(), 5));
    INFO(last_error(job));
    CHECK(job.state == JobState::discarded);
    CHECK(job.errors.back().kind == "discard");
    CHECK(contains(last_error(job), "SMTP 535 5.7.8"));
    CHECK(contains(last_error(job), "(AUTH)"));
    const std::string row = jobq::to_json(job).dump();
    CHECK_FALSE(contains(row, "Wr0ng-pa55word"));
    // Nor in the forms it travelled in (AUTH PLAIN and LOGIN encode it in base64).
    CHECK_FALSE(contains(row, jobq::kinds::base64_encode("Wr0ng-pa55word")));
    CHECK_FALSE(
        contains(row, jobq::kinds::base64_encode(std::string("\0mailer\0Wr0ng-pa55word", 22))));
    CHECK_FALSE(server.has("1.json"));
}

// --- what the server refuses ---------------------------------------------------------------------

TEST_CASE("a mail recipient refused with 550 discards the job with the reply") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    const Job job = h.finished(h.send(with_to("rcpt550-x@example.com"), 5));
    CHECK(job.state == JobState::discarded);
    CHECK(last_error(job) ==
          "SMTP 550 5.1.1 <rcpt550-x@example.com>: mailbox unavailable "
          "(RCPT TO <rcpt550-x@example.com>)");
    CHECK_FALSE(server.has("1.json"));
}

TEST_CASE("a mail recipient deferred with 451 retries the job") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    const Job job = h.finished(h.send(with_to("rcpt451-x@example.com"), 5));
    CHECK(job.state == JobState::retryable);
    CHECK(job.errors.back().kind == "exception");
    CHECK(contains(last_error(job), "SMTP 451 4.3.0"));
}

TEST_CASE("when every mail recipient is refused, one deferral among them makes it a retry") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    json p = payload();
    p["to"] = {"rcpt550-a@example.com", "rcpt451-b@example.com"};
    const Job job = h.finished(h.send(p, 5));
    CHECK(job.state == JobState::retryable);
    CHECK(contains(last_error(job), "SMTP 550"));
    CHECK(contains(last_error(job), "SMTP 451"));
}

TEST_CASE("a mail to one good and one refused recipient completes with each recipient's status") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    json p = payload();
    p["to"] = {"ann@example.com", "rcpt550-bob@example.com"};
    const Job job = h.finished(h.send(p, 5));
    REQUIRE(job.state == JobState::completed);
    CHECK(job.result.at("accepted") == json{"ann@example.com"});
    CHECK(job.result.at("rejected") ==
          json{{{"address", "rcpt550-bob@example.com"},
                {"code", 550},
                {"reply", "550 5.1.1 <rcpt550-bob@example.com>: mailbox unavailable"}}});
    CHECK(server.message().at("rcpt_tos") == json{"ann@example.com"});
}

TEST_CASE("a mail refused with 554 at the end of DATA is discarded") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    const Job job = h.finished(h.send(payload("Offer [reject554]"), 5));
    CHECK(job.state == JobState::discarded);
    CHECK(last_error(job) == "SMTP 554 5.7.1 message refused by policy (end of data)");
}

TEST_CASE("a mail deferred with 451 at the end of DATA is retried") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    const Job job = h.finished(h.send(payload("Hello [defer451]"), 5));
    CHECK(job.state == JobState::retryable);
    CHECK(last_error(job) == "SMTP 451 4.7.1 greylisted, try again later (end of data)");
}

TEST_CASE("a mail to a server that is not listening is retried") {
    EmailOptions o;
    o.url = fmt::format("smtp://127.0.0.1:{}", closed_port());
    o.tls = SmtpTls::none;
    o.default_from = "alerts@example.com";
    EmailHarness h(o);
    const Job job = h.finished(h.send(payload(), 5));
    CHECK(job.state == JobState::retryable);
    CHECK(contains(last_error(job), "SMTP: could not connect to " + o.url));
}

TEST_CASE("an invalid e-mail payload is discarded at once, naming the field") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    // Past email_job's check: enqueued as a plain JobSpec.
    const auto id =
        h.queue
            .enqueue(jobq::JobSpec{"jobq.email", {{"to", {"a@example.com", "nope"}}, {"text", "x"}}}
                         .max_attempts(5))
            .id;
    const Job job = h.finished(id);
    CHECK(job.state == JobState::discarded);
    CHECK(
        last_error(job).starts_with("invalid jobq.email payload: to[1]: 'nope' is not an "
                                    "e-mail address"));
}

TEST_CASE("the e-mail kind refuses bad options when it is added") {
    jobq::Registry registry;
    EmailOptions o;
    o.url = "http://mail.example.com";
    CHECK_THROWS_AS(jobq::kinds::add_email_kind(registry, o), jobq::Error);
    CHECK(registry.kinds().empty());
}

// --- cancellation --------------------------------------------------------------------------------

TEST_CASE("a mail job's timeout against a stalled server ends the attempt promptly as a timeout") {
    SmtpServer server;
    EmailHarness h(plain_options(server));  // the kind's own timeout is minutes
    const auto started = std::chrono::steady_clock::now();
    const auto id = h.send(payload("Hello [stall]"), 3, 1s);
    const Job job = h.finished(id);
    CHECK(std::chrono::steady_clock::now() - started < 30s);
    CHECK(job.state == JobState::retryable);
    CHECK(job.errors.back().kind == "timeout");
    // It was the message transfer that was cut: the server had the message and sat on it.
    CHECK(server.has("stalled-1.txt"));
    h.wait_until([&] { return h.worker->counters().running == 0; }, "the handler to end");
}

TEST_CASE("cancelling a mail job mid-transfer ends it at once") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    const auto id = h.send(payload("Hello [stall]"), 3);
    h.wait_until([&] { return server.has("stalled-1.txt"); }, "the server to stall");
    const auto cancelled_at = std::chrono::steady_clock::now();
    h.queue.cancel(id);
    h.wait_until([&] { return h.worker->counters().cancelled == 1; }, "the handler to stop");
    CHECK(std::chrono::steady_clock::now() - cancelled_at < 30s);
    CHECK(h.worker->counters().running == 0);
    CHECK(h.store.get(id)->state == JobState::cancelled);
}

TEST_CASE("a mail server slow to judge a message does not hold up the worker's other jobs") {
    SmtpServer server;
    EmailHarness h(plain_options(server));
    h.registry.add("noop", [](jobq::JobContext&) -> boost::asio::awaitable<void> { co_return; });
    const auto mail = h.send(payload("Hello [stall]"), 3);
    h.wait_until([&] { return server.has("stalled-1.txt"); }, "the server to stall");
    // libcurl waits for the verdict blocking; it does so on the kind's own thread.
    const auto other = h.queue.enqueue(jobq::JobSpec{"noop"}).id;
    CHECK(h.wait_for_state(other, JobState::completed).state == JobState::completed);
    CHECK(h.store.get(mail)->state == JobState::running);
    h.queue.cancel(mail);
    h.wait_until([&] { return h.worker->counters().running == 0; }, "the mail job to stop");
}
