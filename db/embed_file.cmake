# Turns one file into a NUL-terminated C string named NAME (used for the status page).
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* Generated from ${IN} by db/embed_file.cmake; do not edit. */\nconst char ${NAME}[] = {${bytes}0x00};\n")
