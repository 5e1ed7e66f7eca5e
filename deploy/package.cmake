# The Debian package (CPack): `cmake --build build --target package` makes
# report-pipeline_<version>_amd64.deb in the build directory. It holds the programs (/usr/bin),
# libreport-client with its header and .pc (services/client), the systemd units
# (/lib/systemd/system), the settings files (/etc/report, conffiles), an empty
# /etc/report/keys, and the README; the maintainer scripts in deploy/debian/ create the user
# `report` and start nothing. tests/package/run.sh builds and installs it into an empty root.
#
# The host's files (/etc, /lib/systemd) are their own install component, left out of a plain
# `cmake --install` (which a prefix such as /usr/local or a test's directory gets) and taken
# into the package only.

install(TARGETS report-collector report-store report-aggregator reportctl
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/report-pipeline)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/report-collector.service
              ${PROJECT_SOURCE_DIR}/deploy/systemd/report-store.service
              ${PROJECT_SOURCE_DIR}/deploy/systemd/report-aggregator.service
        DESTINATION /lib/systemd/system COMPONENT host EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/etc/collector.conf
              ${PROJECT_SOURCE_DIR}/deploy/etc/store.conf
              ${PROJECT_SOURCE_DIR}/deploy/etc/aggregator.conf
        DESTINATION /etc/report COMPONENT host EXCLUDE_FROM_ALL)
install(DIRECTORY DESTINATION /etc/report/keys COMPONENT host EXCLUDE_FROM_ALL)
# Backups (README "Backups and restore"): the pgBackRest timers, and backup.sh with the helpers
# it sources, kept in their relative places (backup.sh --host setup writes the host's config).
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/report-backup-full.service
              ${PROJECT_SOURCE_DIR}/deploy/systemd/report-backup-full.timer
              ${PROJECT_SOURCE_DIR}/deploy/systemd/report-backup-incr.service
              ${PROJECT_SOURCE_DIR}/deploy/systemd/report-backup-incr.timer
        DESTINATION /lib/systemd/system COMPONENT host EXCLUDE_FROM_ALL)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/deploy/backup/backup.sh
        DESTINATION ${CMAKE_INSTALL_DATADIR}/report-pipeline/deploy/backup COMPONENT host
        EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/lib/common.sh
        DESTINATION ${CMAKE_INSTALL_DATADIR}/report-pipeline/deploy/lib COMPONENT host
        EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME report-pipeline)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# one package of both components: what any install gets, and the host's files
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL Unspecified host)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(REPORT_PACKAGE_MAINTAINER "Sở KH&CN Cao Bằng, report pipeline"
    CACHE STRING "Maintainer field of the Debian package")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${REPORT_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "monthly reporting pipeline of the Department of Science and Technology")
set(CPACK_PACKAGE_DESCRIPTION
    "Collector, store and aggregator services (ZeroMQ, CURVE, PostgreSQL), reportctl, and the push client library libreport-client with its header and pkg-config file.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The libraries the programs link, found by dpkg-shlibdeps; then what they run or read that no
# link shows: adduser (postinst), Ghostscript (PDF/A), poppler-utils (pdfsig, pdftotext of a
# signed PDF), Liberation Serif 2 (the PDF's face). Nothing recommended.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, ghostscript, poppler-utils, fonts-liberation2")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "")
# what a host of several needs by its role (README "Several hosts", "Backups and restore")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
    "pgbackrest, postgresql-15-auto-failover, pg-auto-failover-cli, postgresql-15")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm ${PROJECT_SOURCE_DIR}/deploy/debian/postrm
    ${PROJECT_SOURCE_DIR}/deploy/debian/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
