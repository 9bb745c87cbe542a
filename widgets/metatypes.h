#pragma once
// Core value types carried by queued signals between worker threads and the GUI.

#include "metaprune/architecture.h"
#include "metaprune/search.h"
#include "metaprune/store.h"
#include "metaprune/training.h"

#include <QMetaType>

Q_DECLARE_METATYPE(mp::CandidateRecord)
Q_DECLARE_METATYPE(mp::TrainProgress)
Q_DECLARE_METATYPE(mp::Encoding)

namespace mpw {
/// Registers the types above for queued connections; call once before starting workers.
void registerMetaTypes();
} // namespace mpw
