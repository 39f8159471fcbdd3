module portcullis.dev/launcher

go 1.24
