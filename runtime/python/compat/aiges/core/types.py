"""AIGES data-type and data-status constants."""

# Data types, under both spellings wrappers use.
STRING, AUDIO, IMAGE, VIDEO = 0, 1, 2, 3
DataText, DataAudio, DataImage, DataVideo = 0, 1, 2, 3
Types = {0: "text", 1: "audio", 2: "image", 3: "video"}

# Data status: first, middle and last frame of a stream, or a one-shot request.
DataBegin, DataContinue, DataEnd, DataOnce = 0, 1, 2, 3
Once = DataOnce
Status = {0: "begin", 1: "continue", 2: "end", 3: "once"}

THREAD_MODE = "thread"
PROCESS_MODE = "process"
