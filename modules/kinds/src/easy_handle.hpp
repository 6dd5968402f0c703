#pragma once
// RAII for libcurl's easy handles and header lists.

#include <curl/curl.h>

#include <memory>
#include <string>

namespace jobq::kinds {

struct EasyDeleter {
    void operator()(CURL* e) const noexcept { curl_easy_cleanup(e); }
};
/// An easy handle, cleaned up when it goes.
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
/// A curl_slist (headers, recipients), freed when it goes.
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

/// A new easy handle; throws std::runtime_error when libcurl cannot make one.
EasyHandle make_easy();

/// Appends a copy of `line` to `list`; throws std::bad_alloc when libcurl cannot.
void append(Slist& list, const std::string& line);

}  // namespace jobq::kinds
