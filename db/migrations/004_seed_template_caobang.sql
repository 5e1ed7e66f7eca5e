-- Seed: the report template of SKHCN (as in report 588/BC-SKHCN of July 2018), its
-- recipients ("Nơi nhận") and the 2018 annual plan decision cited in section 2.
-- The 2018 report does not end with './.' (end_mark ''); the basis paragraph cites the
-- requesting document given at publication ({basis}). Plain SQL, no transaction control.

INSERT INTO report_templates (
    agency_code,
    motto,
    motto_sub,
    doc_type,
    summary_pattern,
    summary_pattern_year_end,
    intro_pattern,
    intro_pattern_no_basis,
    section1_heading,
    section1a_heading,
    section1a_intro,
    section1b_heading,
    section2_heading,
    section2_intro,
    closing_pattern,
    end_mark,
    recipients_heading,
    signer_authority,
    signer_title,
    signer_name,
    period_rule
) VALUES (
    'SKHCN',
    'CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM',
    'Độc lập - Tự do - Hạnh phúc',
    'BÁO CÁO',
    'Kết quả hoạt động khoa học và công nghệ tháng {month} và nhiệm vụ công tác tháng {next_month} năm {year}',
    'Kết quả hoạt động khoa học và công nghệ tháng {month} năm {year} và nhiệm vụ công tác tháng {next_month} năm {next_year}',
    'Thực hiện chế độ báo cáo định kỳ và {basis}, Sở Khoa học và Công nghệ (KH&CN) báo cáo kết quả hoạt động KH&CN tháng {month} năm {year} và nhiệm vụ công tác tháng {next_month} năm {next_year} như sau:',
    'Thực hiện chế độ báo cáo định kỳ, Sở Khoa học và Công nghệ (KH&CN) báo cáo kết quả hoạt động KH&CN tháng {month} năm {year} và nhiệm vụ công tác tháng {next_month} năm {next_year} như sau:',
    '1. Kết quả hoạt động KH&CN tháng {month} năm {year}',
    'a) Kết quả thực hiện các nhiệm vụ theo Kế hoạch KH&CN tỉnh Cao Bằng năm {year}',
    'Các hoạt động KH&CN trong tháng {month} năm {year} đang được triển khai theo đúng Kế hoạch KH&CN tỉnh Cao Bằng năm {year} đã được phê duyệt, kết quả cụ thể như sau:',
    'b) Hạn chế, vướng mắc:',
    '2. Phương hướng, nhiệm vụ KH&CN trọng tâm trong tháng {next_month} năm {next_year}',
    'Tập trung chỉ đạo thực hiện đảm bảo hoàn thành theo tiến độ các nhiệm vụ được giao theo Kế hoạch phê duyệt tại {plan_decision} của UBND tỉnh Cao Bằng, cụ thể với các nhiệm vụ thực hiện trọng tâm trong tháng {next_month}/{next_year} như sau:',
    'Trên đây là Báo cáo kết quả hoạt động khoa học và công nghệ tháng {month} năm {year} và nhiệm vụ công tác tháng {next_month} năm {next_year} của Sở Khoa học và Công nghệ tỉnh Cao Bằng.',
    '',
    'Nơi nhận:',
    '',
    'GIÁM ĐỐC',
    'Hoàng Giang',
    'calendar'
);

INSERT INTO report_recipients (agency_code, position, text) VALUES
    ('SKHCN', 1, 'VP Tỉnh uỷ'),
    ('SKHCN', 2, 'VP UBND tỉnh'),
    ('SKHCN', 3, 'Sở KH&ĐT'),
    ('SKHCN', 4, 'Ban Tuyên giáo TU'),
    ('SKHCN', 5, 'Cục Thống kê tỉnh'),
    ('SKHCN', 6, 'GD, các PGD Sở (bản điện tử)'),
    ('SKHCN', 7, 'Các phòng và đơn vị trực thuộc Sở (bản điện tử)'),
    ('SKHCN', 8, 'Lưu: VT, VP');

INSERT INTO annual_plans (agency_code, year, decision) VALUES
    ('SKHCN', 2018, 'Quyết định số 225/QĐ-UBND ngày 02/3/2018');
