// Opening the state directory and file: creation (directory 0770, file
// 0660: owner and group share the cards), first initialisation, header
// check and mmap.
#pragma once

#include <string>

#include "arbiter/state_file.h"

namespace inaccel {
namespace arb {

class Mapping {
 public:
  Mapping() = default;
  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&& other) noexcept;
  ~Mapping();  // closing the descriptor releases every lock taken through it

  int fd() const { return fd_; }
  State* state() const { return state_; }

 private:
  friend Mapping openForUpdate(const std::string& dir);
  friend Mapping openForRead(const std::string& dir);
  void reset();
  int fd_ = -1;
  State* state_ = nullptr;
};

// For an Arbiter: creates what is missing, initialises a new file, repairs
// and validates an existing one (all under the table lock).
Mapping openForUpdate(const std::string& dir);

// For inspect(): read-only, with the table lock held shared until the
// Mapping is destroyed; validated as an Arbiter validates it (STATE_CORRUPT).
// Empty (no state()) when there is no state yet.
Mapping openForRead(const std::string& dir);

}  // namespace arb
}  // namespace inaccel
