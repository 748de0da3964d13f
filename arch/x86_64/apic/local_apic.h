// The local APIC in xAPIC (MMIO) mode. Intel SDM Vol. 3A, chapter 11.
#pragma once

#include <stdint.h>

#include "nucleus/lib/status.h"

namespace umka::arch::local_apic {

enum class Delivery : uint32_t { Fixed = 0, Nmi = 4u << 8, Init = 5u << 8, StartUp = 6u << 8 };
enum class Destination : uint32_t { Single = 0, AllButSelf = 3u << 18 };

Status map(uint64_t physical_base);
bool is_mapped();
void enable();
uint32_t id();
void end_of_interrupt();
void send(uint32_t hardware_id, Delivery delivery, uint8_t vector,
          Destination destination = Destination::Single);

// Timer registers.
void timer_one_shot_masked(uint32_t initial_count);
uint32_t timer_current_count();
void timer_periodic(uint8_t vector, uint32_t initial_count);

}  // namespace umka::arch::local_apic
