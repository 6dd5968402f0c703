# Writes OUT: a C++ file defining `migrations()` -> the SQL files in FILES, in order, as
# {version, sql} pairs. The version is the number the file name starts with (001_init.sql -> 1).
set(content "// Generated from sql/*.sql by cmake/embed_migrations.cmake. Do not edit.\n")
string(APPEND content "#include <string_view>\n#include <utility>\n#include <vector>\n\n")
string(APPEND content "namespace ${NAMESPACE} {\n\n")
string(APPEND content "const std::vector<std::pair<int, std::string_view>>& migrations() {\n")
string(APPEND content "    static const std::vector<std::pair<int, std::string_view>> all{\n")
string(REPLACE "|" ";" FILES "${FILES}")  # joined with "|" by the caller
foreach(f IN LISTS FILES)
  get_filename_component(name ${f} NAME)
  string(REGEX MATCH "^[0-9]+" version ${name})
  math(EXPR version "${version}")
  file(READ ${f} sql)
  string(APPEND content "        {${version}, R\"jobqsql(${sql})jobqsql\"},\n")
endforeach()
string(APPEND content "    };\n    return all;\n}\n\n}  // namespace ${NAMESPACE}\n")
file(WRITE ${OUT} "${content}")
