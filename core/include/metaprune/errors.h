#pragma once
// Exceptions thrown by the core. Every message names the file or setting at fault.

#include <stdexcept>

namespace mp {

/// Bad or missing input data (missing file, wrong magic number, truncated file, label/image
/// count mismatch, empty class folder).
class DataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A checkpoint that is missing, corrupt, or belongs to other settings.
class CheckpointError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The project database cannot be opened, is locked, damaged, or from a newer version.
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A search constraint no encoding can meet, or settings out of range.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A search refused because its PruningNet has not learned (project.h, LearnedCheck): the
/// caller may ask the user and search anyway.
class NotLearnedError : public ConfigError {
public:
    using ConfigError::ConfigError;
};

/// Long work stopped because its cancel flag was set; nothing stored so far is lost.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

} // namespace mp
