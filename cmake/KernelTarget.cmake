# Freestanding kernel targets, compiled with the host compiler but none of its runtime.
# docs/build.md explains each flag.
set(UMKA_KERNEL_COMPILE_OPTIONS
  -ffreestanding            # no hosted library assumptions
  -fno-exceptions -fno-rtti # no unwinder, no type_info in the kernel
  -fno-threadsafe-statics   # no __cxa_guard_*: the nucleus initialises statics itself
  -mno-red-zone             # interrupts push onto the current stack without skipping 128 bytes
  -mgeneral-regs-only       # no SSE/x87 state in kernel code: nothing to save on entry
  -mcmodel=kernel           # code and data live in the top 2 GiB (0xffffffff80000000+)
  -fno-pic -fno-pie
  -fno-stack-protector      # no __stack_chk_guard before we have a TLS to keep it in
  -fno-asynchronous-unwind-tables
  -fno-omit-frame-pointer   # exception reports walk RBP for the backtrace
  -fno-strict-aliasing      # firmware tables are read through casts
  -O2 -g
  -Wall -Wextra -Wno-missing-field-initializers
)

set(UMKA_KERNEL_LINK_OPTIONS
  -nostdlib -static -no-pie
  -Wl,-z,max-page-size=0x1000
  -Wl,-z,noexecstack
  -Wl,--build-id=none
  -Wl,--no-warn-rwx-segments
)

# Applies the kernel flags to a target; C++ sources see GCC's freestanding headers only.
function(umka_kernel_target target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${UMKA_KERNEL_COMPILE_OPTIONS}>
    $<$<COMPILE_LANGUAGE:C>:-ffreestanding -mno-red-zone -mgeneral-regs-only -mcmodel=kernel -fno-pic -fno-stack-protector -O2 -g>
    $<$<COMPILE_LANGUAGE:ASM>:-D__ASSEMBLY__>)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/arch/x86_64/include)
  target_compile_definitions(${target} PRIVATE UMKA_KERNEL=1)
endfunction()
