// The kinds half of the consumer, built when the installed jobq has jobq::kinds: registering
// jobq.http and building a checked job must compile against the installed headers and link
// libcurl and libcrypto through the exported target alone.

#include <string>

#include <jobq/kinds/http_kind.hpp>
#include <jobq/kinds/webhook_signature.hpp>

// "jobq.http" and a signature, or throws.
std::string consumer_kinds() {
    jobq::Registry registry;
    jobq::kinds::add_http_kind(registry, jobq::kinds::HttpOptions{});
    const jobq::JobSpec spec = jobq::kinds::http_job({{"url", "https://example.com/hook"}});
    return spec.kind() + " " + jobq::kinds::webhook_signature("whsec_c2VjcmV0", "msg_1", 1, "{}");
}
