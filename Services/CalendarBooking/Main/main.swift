import CalendarBooking
import ServiceKit

await ServiceMain.run(CalendarBookingService.self)
