"""Reading corpora and videos: the tracker formats (readers are leaves), labels, the participant flow, the synthetic corpus, the parse cache, video extraction."""
