// EasyHandle and Slist (easy_handle.hpp).

#include "easy_handle.hpp"

#include <new>
#include <stdexcept>

#include "curl_multi.hpp"

namespace jobq::kinds {

EasyHandle make_easy() {
    ensure_curl_global_init();
    EasyHandle e(curl_easy_init());
    if (!e) throw std::runtime_error("curl_easy_init failed");
    return e;
}

void append(Slist& list, const std::string& line) {
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (!next) throw std::bad_alloc();
    (void)list.release();
    list.reset(next);
}

}  // namespace jobq::kinds
