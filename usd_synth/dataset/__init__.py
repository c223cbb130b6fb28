"""The dataset builder: a config -> a deterministic plan of clip jobs -> clips rendered on any executor ->
a dataset in the layouts trainers read (TAO action recognition, class-folder videos, COCO keypoints,
skeleton sequences), with a manifest whose checksums say exactly what was made."""
