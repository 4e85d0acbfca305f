"""The queues and tasks by name: what `pixelvault worker --help` lists, without loading
the queue's database code."""

PYRAMIDS = "pyramids"  # the queues
THUMBNAILS = "thumbnails"
DELETIONS = "deletions"
MAINTENANCE = "maintenance"  # work an administrator asks for: memo rebuilds
QUEUES = (PYRAMIDS, THUMBNAILS, DELETIONS, MAINTENANCE)
PYRAMID_TASK = "pixelvault.pyramid"
THUMBNAIL_TASK = "pixelvault.thumbnail"
REMOVAL_TASK = "pixelvault.remove_bytes"
PYRAMID_PART_TASK = "pixelvault.pyramid_part"
PYRAMID_FINISH_TASK = "pixelvault.pyramid_finish"
MEMO_TASK = "pixelvault.memo"
