// Defined here so that the addon needs no libstdc++ newer than GCC 8's (GLIBCXX_3.4.25): GCC 11+
// headers call this helper, which libstdc++ exports only from GLIBCXX_3.4.29.
#include <new>
namespace std {
void __throw_bad_array_new_length() { throw bad_array_new_length(); }
}  // namespace std
