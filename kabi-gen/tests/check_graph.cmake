# Regenerates the service graph from kabi-idl/ and compares it with docs/services.dot.
file(GLOB idl_files ${IDL_DIR}/*.kabi ${IDL_DIR}/modules/*.kabi)
execute_process(COMMAND ${KABI_GEN} -I ${IDL_DIR} --graph ${OUT} ${idl_files} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "kabi-gen --graph failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT} ${COMMITTED} RESULT_VARIABLE differs)
if(differs)
  message(FATAL_ERROR "docs/services.dot is stale: regenerate with\n"
    "  kabi-gen -I kabi-idl --graph docs/services.dot kabi-idl/*.kabi kabi-idl/modules/*.kabi\n"
    "  dot -Tsvg docs/services.dot -o docs/services.svg")
endif()
